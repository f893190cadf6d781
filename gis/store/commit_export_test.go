package store

import (
	"bytes"
	"context"
	"encoding/json"

	"github.com/waterline-gis/waterline/gis"
	"github.com/waterline-gis/waterline/gis/netjson"
)

// CommitFull is Commit rewriting the network tables whole (junctions
// keeping their stored ids, as Commit does): what the incremental commit
// must store, row for row.
func CommitFull(ctx context.Context, s *Store, id int64, by string) (*Batch, error) {
	return s.commit(ctx, id, by, commitWhole)
}

// CommitRewrite is the commit as it was before it became incremental, for
// the benchmarks that compare the two.
func CommitRewrite(ctx context.Context, s *Store, id int64, by string) (*Batch, error) {
	return s.commit(ctx, id, by, commitRewrite)
}

// StageApproved creates an approved batch of ds (storage CRS) that also
// takes out the live features remove ("kind:id"), based on the current
// network version — as Rollback stages a compensating batch, without the
// validation and the four eyes.
func StageApproved(ctx context.Context, s *Store, ds *gis.Dataset, remove []string) (int64, error) {
	var buf bytes.Buffer
	if err := netjson.Write(&buf, ds); err != nil {
		return 0, err
	}
	opts, _ := json.Marshal(batchOptions{Remove: remove})
	var id int64
	err := s.pool.QueryRow(ctx, `INSERT INTO asbuilt_batches (status, uploaded_by, approved_by, approved_at, file, format, options, staged, base_version)
		VALUES ('approved', 'test', 'reviewer', now(), 'test.geojson', 'test', $1, $2, (SELECT version FROM network_version)) RETURNING id`,
		string(opts), buf.Bytes()).Scan(&id)
	return id, err
}
