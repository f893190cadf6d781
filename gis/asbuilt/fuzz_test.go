package asbuilt

import (
	"testing"
)

// FuzzReadTable feeds arbitrary bytes to the point table reader (CSV path,
// encoding detection, header detection, fill-down, pipes) and validation:
// they must never panic, and what they return must be consistent. The
// seeds are in the code; run with go test -fuzz FuzzReadTable.
func FuzzReadTable(f *testing.F) {
	f.Add(table(cleanRows()...), "4548")
	f.Add([]byte("管 线 点 成 果 表,,,\n\"管线点\n预编号\",管线点号,\"连接\n点号\",管线点类别,,平面坐标(m),\n,,,特征,附属物,X,Y\nJ1,,J2,非普查,,4059371.862,497705.318\n,,J3,,,4059371.862,497705.318\nJ2,,J1,三通,阀门,4059372.171,497723.311\n"), "")
	f.Add([]byte("\xb5\xe3\xba\xc5,\xc1\xac\xbd\xd3\xb5\xe3\xba\xc5,X,Y\nP1,P2,4059000,500000\nP2,,4059000,500010\n"), "4548")
	f.Add([]byte("\xEF\xBB\xBF点号,连接点号,X,Y,管径\nP1,P1,1,1,800X600\n,P9,,,\n"), "4527")
	f.Add([]byte("点号,连接点号,X,Y\n\"P1,P2,1,2\n"), "")
	f.Add([]byte("点号\t连接点号\tX\tY\nP1\tP2\t36.6\t117.0\nP2\t\t36.61\t117.0\n"), "4490")
	f.Fuzz(func(t *testing.T, data []byte, crs string) {
		c, err := ParseCRS(crs)
		if err != nil {
			return
		}
		d, err := Read("fuzz.csv", data, ReadOptions{CRS: c, StorageSRID: 4548, Limits: Limits{MaxRows: 2000, MaxIssues: 200}})
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("Read returned %T %v, want *Error", err, err)
			}
			return
		}
		if d.Survey == nil || d.Dataset == nil {
			t.Fatal("no survey")
		}
		for _, p := range d.Dataset.Pipes {
			if len(p.Geom) != 2 {
				t.Fatalf("pipe %s has %d vertices", p.ID, len(p.Geom))
			}
		}
		if len(d.Dataset.Pipes) > len(d.Survey.Lines) {
			t.Fatalf("%d pipes from %d lines", len(d.Dataset.Pipes), len(d.Survey.Lines))
		}
		v := Validate(d, liveNet(), ValidateOptions{})
		for _, is := range v.Issues {
			if is.Code == "" || is.Severity == "" {
				t.Fatalf("issue without code or severity: %+v", is)
			}
		}
	})
}
