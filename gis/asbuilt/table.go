package asbuilt

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// Limits bound what a delivery may cost to read. Zero values take the
// defaults of DefaultLimits.
type Limits struct {
	MaxBytes      int64 // the file as uploaded
	MaxUnzipped   int64 // the sum of an archive's members, uncompressed (xlsx, zipped shapefile)
	MaxZipEntries int   // members of an archive
	MaxRows       int   // rows of a table, features of a GIS file
	MaxIssues     int   // issues listed; the rest are counted
}

// DefaultLimits: a 64 MiB upload, 512 MiB unpacked, 200,000 rows.
var DefaultLimits = Limits{MaxBytes: 64 << 20, MaxUnzipped: 512 << 20, MaxZipEntries: 10000, MaxRows: 200000, MaxIssues: 2000}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	if l.MaxBytes > 0 {
		d.MaxBytes = l.MaxBytes
	}
	if l.MaxUnzipped > 0 {
		d.MaxUnzipped = l.MaxUnzipped
	}
	if l.MaxZipEntries > 0 {
		d.MaxZipEntries = l.MaxZipEntries
	}
	if l.MaxRows > 0 {
		d.MaxRows = l.MaxRows
	}
	if l.MaxIssues > 0 {
		d.MaxIssues = l.MaxIssues
	}
	return d
}

// Sheet is a table as text cells, rows as a spreadsheet numbers them
// (Rows[0] is row 1). Merged cells hold their value in the top-left cell
// only, as both Excel's CSV export and excelize give them.
type Sheet struct {
	Name string
	Rows [][]string
}

// checkZip refuses an archive that would expand beyond the limits. The
// declared sizes bound what archive/zip will inflate (it fails on a member
// longer than declared), so checking them is enough.
func checkZip(data []byte, where string, lim Limits) (*zip.Reader, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fileError(CodeFileUnreadable, where, "the file is not a readable ZIP archive (truncated or corrupt): "+err.Error(),
			"save it again from the program that made it and upload the new file")
	}
	if len(zr.File) > lim.MaxZipEntries {
		return nil, fileError(CodeFileZipBomb, where, fmt.Sprintf("the archive has %d members, more than the limit of %d", len(zr.File), lim.MaxZipEntries), "")
	}
	var total uint64
	for _, f := range zr.File {
		total += f.UncompressedSize64
		if total > uint64(lim.MaxUnzipped) {
			return nil, fileError(CodeFileZipBomb, where,
				fmt.Sprintf("the archive expands to more than %d MiB (member %q); it is refused as a possible zip bomb", lim.MaxUnzipped>>20, f.Name),
				"split the delivery into smaller files")
		}
		if f.CompressedSize64 > 0 && f.UncompressedSize64 > 64<<20 && f.UncompressedSize64/f.CompressedSize64 > 1000 {
			return nil, fileError(CodeFileZipBomb, where,
				fmt.Sprintf("member %q expands %d times (%d MiB); it is refused as a possible zip bomb", f.Name, f.UncompressedSize64/f.CompressedSize64, f.UncompressedSize64>>20), "")
		}
	}
	return zr, nil
}

// readXLSX returns every sheet of a workbook.
func readXLSX(data []byte, name string, lim Limits) ([]Sheet, error) {
	if _, err := checkZip(data, name, lim); err != nil {
		return nil, err
	}
	xmlLimit := lim.MaxUnzipped
	if xmlLimit > 256<<20 {
		xmlLimit = 256 << 20
	}
	f, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{UnzipSizeLimit: lim.MaxUnzipped, UnzipXMLSizeLimit: xmlLimit})
	if err != nil {
		return nil, fileError(CodeFileUnreadable, name, "the workbook cannot be opened: "+err.Error(),
			"open it in Excel or WPS and save it again as .xlsx")
	}
	defer f.Close()
	var out []Sheet
	for _, sn := range f.GetSheetList() {
		rows, err := f.Rows(sn)
		if err != nil {
			return nil, fileError(CodeFileUnreadable, name+"["+sn+"]", "the sheet cannot be read: "+err.Error(), "save the workbook again as .xlsx")
		}
		var sh Sheet
		sh.Name = sn
		for rows.Next() {
			if len(sh.Rows) >= lim.MaxRows+100 {
				rows.Close()
				return nil, fileError(CodeFileTooLarge, name+"["+sn+"]", fmt.Sprintf("the sheet has more than %d rows", lim.MaxRows), "split the survey into several deliveries")
			}
			cols, err := rows.Columns(excelize.Options{RawCellValue: true})
			if err != nil {
				rows.Close()
				return nil, fileError(CodeFileUnreadable, name+"["+sn+"]", "a row cannot be read: "+err.Error(), "save the workbook again as .xlsx")
			}
			sh.Rows = append(sh.Rows, cols)
		}
		err = rows.Error()
		rows.Close()
		if err != nil {
			return nil, fileError(CodeFileUnreadable, name+"["+sn+"]", "the sheet cannot be read: "+err.Error(), "save the workbook again as .xlsx")
		}
		out = append(out, sh)
	}
	return out, nil
}

// decodeText returns data as UTF-8 and the encoding it was in: UTF-8 with
// or without a BOM, UTF-16 with a BOM, else GB18030 (a superset of GBK and
// GB2312, which is what Chinese Excel saves as "CSV").
func decodeText(data []byte, where string) (string, string, error) {
	switch {
	case bytes.HasPrefix(data, []byte{0xEF, 0xBB, 0xBF}):
		data = data[3:]
		if !utf8.Valid(data) {
			return "", "", fileError(CodeFileEncoding, where, "the file starts with a UTF-8 BOM but is not valid UTF-8", "save it again as CSV UTF-8")
		}
		return string(data), "UTF-8 (BOM)", nil
	case bytes.HasPrefix(data, []byte{0xFF, 0xFE}), bytes.HasPrefix(data, []byte{0xFE, 0xFF}):
		s, err := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewDecoder().Bytes(data)
		if err != nil {
			return "", "", fileError(CodeFileEncoding, where, "the file is not valid UTF-16", "save it again as CSV UTF-8")
		}
		return string(s), "UTF-16", nil
	case utf8.Valid(data):
		return string(data), "UTF-8", nil
	}
	s, _, err := transform.Bytes(simplifiedchinese.GB18030.NewDecoder(), data)
	if err != nil || bytes.ContainsRune(s, utf8.RuneError) {
		return "", "", fileError(CodeFileEncoding, where, "the text is neither UTF-8 nor GBK/GB18030", "save it again as CSV UTF-8 (or CSV in the system's Chinese encoding)")
	}
	return string(s), "GBK/GB18030", nil
}

// readCSV returns a CSV (or tab-separated) table as a sheet and its encoding.
func readCSV(data []byte, name string, lim Limits) (Sheet, string, error) {
	if bytes.IndexByte(data, 0) >= 0 && !bytes.HasPrefix(data, []byte{0xFF, 0xFE}) && !bytes.HasPrefix(data, []byte{0xFE, 0xFF}) {
		return Sheet{}, "", fileError(CodeFileWrongType, name, "the file is binary, not a CSV table", "upload the point table as .xlsx or .csv")
	}
	text, enc, err := decodeText(data, name)
	if err != nil {
		return Sheet{}, "", err
	}
	head := text
	if len(head) > 8192 {
		head = head[:8192]
	}
	comma := ','
	switch {
	case strings.Count(head, "\t") > strings.Count(head, ","):
		comma = '\t'
	case strings.Count(head, ";") > strings.Count(head, ","):
		comma = ';'
	}
	// Strictly first; a bare quote in a field (6" for inches) is read
	// leniently, but an unterminated quoted field (a truncated file) is not.
	sh, err := parseCSV(text, comma, false, name, lim)
	if err != nil && errors.Is(err, csv.ErrBareQuote) {
		sh, err = parseCSV(text, comma, true, name, lim)
	}
	if err != nil {
		var ae *Error
		if errors.As(err, &ae) {
			return Sheet{}, "", ae
		}
		var pe *csv.ParseError
		line := 0
		if errors.As(err, &pe) {
			line = pe.StartLine
		}
		return Sheet{}, "", fileError(CodeFileUnreadable, fmt.Sprintf("%s:%d", name, line), "the CSV cannot be parsed (truncated, or a quote left open): "+err.Error(), "save it again from Excel as CSV")
	}
	return sh, enc, nil
}

func parseCSV(text string, comma rune, lazy bool, name string, lim Limits) (Sheet, error) {
	r := csv.NewReader(strings.NewReader(text))
	r.FieldsPerRecord = -1
	r.LazyQuotes = lazy
	r.Comma = comma
	sh := Sheet{Name: ""}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return sh, err
		}
		if len(sh.Rows) >= lim.MaxRows+100 {
			return Sheet{}, fileError(CodeFileTooLarge, name, fmt.Sprintf("the table has more than %d rows", lim.MaxRows), "split the survey into several deliveries")
		}
		sh.Rows = append(sh.Rows, rec)
	}
	return sh, nil
}
