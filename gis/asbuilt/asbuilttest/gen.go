// Package asbuilttest makes point tables for tests and benchmarks: a
// survey of n points in the layout of the delivered tables (a title row,
// a two-row header, fill-down point numbers, pipes listed from one or both
// ends), as CSV or .xlsx.
package asbuilttest

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/xuri/excelize/v2"
)

// Origin is where the survey lies (EPSG:4548 easting, northing): the tie-in
// point T0, west of Jinan's centre.
var Origin = [2]float64{497000, 4058000}

// Rows returns the survey's rows (without title and header): a trunk of
// n/200 points northwards from Origin (T0 ties into the existing network),
// each trunk point the tee of a branch of 199 points eastwards; a valve
// every 10th branch point, a hydrant at each branch end. n is rounded to
// a multiple of 200.
func Rows(n int) [][]string {
	chains := max(n/200, 1)
	const per = 199
	var rows [][]string
	type listing struct{ to, dn, mat string }
	add := func(id, feat, app string, e, nn float64, ls []listing) {
		for i, l := range ls {
			pid := id
			if i > 0 {
				pid = ""
			}
			rows = append(rows, []string{pid, "", l.to, "直埋", l.mat, l.dn, feat, app, fmt.Sprintf("%.3f", nn), fmt.Sprintf("%.3f", e), "50.000", "48.500", "", "1.50", "", "", "", ""})
		}
		if len(ls) == 0 {
			rows = append(rows, []string{id, "", "", "直埋", "", "", feat, app, fmt.Sprintf("%.3f", nn), fmt.Sprintf("%.3f", e), "50.000", "", "", "", "", "", "", ""})
		}
	}
	for r := 0; r < chains; r++ {
		t := fmt.Sprintf("T%d", r)
		e, nn := Origin[0], Origin[1]+float64(r)*30
		var ls []listing
		if r+1 < chains {
			ls = append(ls, listing{fmt.Sprintf("T%d", r+1), "400", "球墨铸铁"})
		}
		if r > 0 && r%2 == 0 {
			ls = append(ls, listing{fmt.Sprintf("T%d", r-1), "400", "球墨铸铁"})
		}
		ls = append(ls, listing{fmt.Sprintf("B%d_1", r), "200", "球墨铸铁"})
		feat := "三通"
		switch {
		case r == 0:
			feat = "非普查"
			if chains > 1 {
				feat = "三通"
			}
		case r == chains-1:
			feat = "弯头"
		}
		add(t, feat, "", e, nn, ls)
		for k := 1; k <= per; k++ {
			id := fmt.Sprintf("B%d_%d", r, k)
			var ls []listing
			if k < per {
				ls = append(ls, listing{fmt.Sprintf("B%d_%d", r, k+1), "200", "球墨铸铁"})
			}
			if k%2 == 0 {
				prev := fmt.Sprintf("B%d_%d", r, k-1)
				ls = append(ls, listing{prev, "200", "球墨铸铁"})
			}
			feat, app := "直线点", ""
			if k%10 == 0 {
				app = "阀门"
			}
			if k == per {
				feat, app = "终止点", "消火栓"
			}
			add(id, feat, app, e+float64(k)*25, nn, ls)
		}
	}
	return rows
}

var header1 = []string{"管线点\n预编号", "管线点号", "连接\n点号", "埋设\n方式", "管线\n材料", "管径或断\n面尺寸φ\n(mm)", "管线点类别", "", "平面坐标(m)", "", "高程(m)", "", "", "埋深\n(m)", "", "", "", "备注"}
var header2 = []string{"", "", "", "", "", "", "特征", "附属物", "X", "Y", "地面", "管(沟\n块)顶", "管(沟\n块)内底", "", "", "", "", ""}

// CSV returns the survey as an Excel-style CSV (UTF-8 with BOM, CRLF).
func CSV(n int) []byte {
	var b bytes.Buffer
	b.WriteString("\xEF\xBB\xBF管 线 点 成 果 表" + strings.Repeat(",", 17) + "\r\n")
	line := func(cells []string) {
		for i, c := range cells {
			if i > 0 {
				b.WriteByte(',')
			}
			if strings.ContainsAny(c, ",\"\n") {
				c = `"` + strings.ReplaceAll(c, `"`, `""`) + `"`
			}
			b.WriteString(c)
		}
		b.WriteString("\r\n")
	}
	line(header1)
	line(header2)
	for _, r := range Rows(n) {
		line(r)
	}
	return b.Bytes()
}

// XLSX returns the survey as a workbook with a cover sheet and sheet J.
func XLSX(n int) ([]byte, error) {
	f := excelize.NewFile()
	defer f.Close()
	f.SetSheetName("Sheet1", "封面")
	if _, err := f.NewSheet("J"); err != nil {
		return nil, err
	}
	sw, err := f.NewStreamWriter("J")
	if err != nil {
		return nil, err
	}
	put := func(row int, cells []string) error {
		vals := make([]any, len(cells))
		for i, c := range cells {
			vals[i] = c
		}
		cell, _ := excelize.CoordinatesToCellName(1, row)
		return sw.SetRow(cell, vals)
	}
	if err := put(1, []string{"管 线 点 成 果 表"}); err != nil {
		return nil, err
	}
	if err := put(2, header1); err != nil {
		return nil, err
	}
	if err := put(3, header2); err != nil {
		return nil, err
	}
	for i, r := range Rows(n) {
		if err := put(i+4, r); err != nil {
			return nil, err
		}
	}
	if err := sw.Flush(); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := f.Write(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
