package netjson

import (
	"bytes"
	"encoding/json"
	"testing"
)

func BenchmarkFloor(b *testing.B) {
	data := benchFile(b)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		dec := json.NewDecoder(&counter{r: bytes.NewReader(data), nlLast: -1})
		dec.Token()
		dec.Token()
		dec.Token()
		dec.Token()
		dec.Token()
		var raw json.RawMessage
		for dec.More() {
			dec.Decode(&raw)
		}
	}
}
