package web

import (
	"encoding/csv"
	"io"
	"strconv"
	"strings"

	"github.com/waterline-gis/waterline/gis/store"
)

// writeCustomersCSV writes customers for Excel: UTF-8 with a byte-order
// mark (so Excel reads Chinese correctly) and a bilingual header.
func writeCustomersCSV(w io.Writer, rows []store.CustomerInfo) error {
	if _, err := io.WriteString(w, "\ufeff"); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	if err := cw.Write([]string{"客户编号 id", "名称 name", "地址 address", "电话 phone", "类别 category", "重点 critical", "户数 households"}); err != nil {
		return err
	}
	for _, c := range rows {
		crit := ""
		if c.Critical {
			crit = "是 yes"
		}
		row := []string{c.ID, c.Name, c.Address, c.Phone, c.Category, crit, strconv.Itoa(c.Households)}
		for i := range row {
			row[i] = inert(row[i])
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// inert keeps a spreadsheet from reading a cell as a formula: text that
// starts with = + - @ (or a tab/CR) gets a leading apostrophe.
func inert(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
