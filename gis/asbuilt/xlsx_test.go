package asbuilt

import (
	"bytes"
	"testing"

	"github.com/xuri/excelize/v2"
)

// TestWorkbookVariants: one sheet per pipe class (the water sheet is JS),
// numeric cells, a point number merged over its rows, a one-row header.
func TestWorkbookVariants(t *testing.T) {
	f := excelize.NewFile()
	f.SetSheetName("Sheet1", "封面")
	for _, sh := range []string{"PS", "JS"} {
		if _, err := f.NewSheet(sh); err != nil {
			t.Fatal(err)
		}
		f.SetSheetRow(sh, "A1", &[]any{"物探点号", "连接点号", "材质", "管径", "特征", "附属物", "X", "Y"}) //nolint:errcheck
	}
	// Drainage: must not be read.
	f.SetSheetRow("PS", "A2", &[]any{"Y1", "Y2", "砼", 600, "", "", 4059000.0, 500000.0}) //nolint:errcheck
	rows := [][]any{
		{"J1", "J2", "钢", 200, "非普查", "", 4059000.0, 500000.0},
		{"J2", "J1", "钢", 200, "三通", "阀门", 4059000.0, 500030.0},
		{nil, "J3", "钢", 200, "三通", "阀门", 4059000.0, 500030.0},
		{nil, "J4", "钢", 100, "三通", "阀门", 4059000.0, 500030.0},
		{"J3", "", "钢", 200, "预留口", "", 4059000.0, 500060.0},
		{"J4", "J2", "钢", 100, "终止点", "消火栓", 4059010.0, 500030.0},
	}
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		f.SetSheetRow("JS", cell, &r) //nolint:errcheck
	}
	if err := f.MergeCell("JS", "A3", "A5"); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := f.Write(&b); err != nil {
		t.Fatal(err)
	}
	d, err := Read("classes.xlsx", b.Bytes(), ReadOptions{CRS: CRS{SRID: 4548}})
	if err != nil {
		t.Fatal(err)
	}
	if d.Survey.Sheet != "JS" || len(d.Survey.Points) != 4 || len(d.Dataset.Pipes) != 3 || len(d.Dataset.Valves) != 1 || len(d.Dataset.Hydrants) != 1 {
		t.Fatalf("sheet %q, %d points, %d pipes, %d valves, %d hydrants: %v", d.Survey.Sheet, len(d.Survey.Points), len(d.Dataset.Pipes), len(d.Dataset.Valves), len(d.Dataset.Hydrants), d.Issues)
	}
	if v := d.Dataset.Valves[0]; v.Pipe != "J2-J4" {
		t.Errorf("the valve at the tee sits on %s, want the branch J2-J4", v.Pipe)
	}
	// The mapping names another sheet.
	if _, err := Read("classes.xlsx", b.Bytes(), ReadOptions{CRS: CRS{SRID: 4548}, Mapping: &Mapping{Sheet: "GS"}}); err == nil || err.(*Error).Issues[0].Code != CodeSheetNotFound {
		t.Errorf("missing sheet: %v", err)
	}
	d, err = Read("classes.xlsx", b.Bytes(), ReadOptions{CRS: CRS{SRID: 4548}, Mapping: &Mapping{Sheet: "PS"}})
	if err != nil || d.Survey.Sheet != "PS" || d.Dataset.Pipes != nil && len(d.Dataset.Pipes) != 0 {
		t.Errorf("sheet by mapping: %v %+v", err, d.Survey)
	}
}
