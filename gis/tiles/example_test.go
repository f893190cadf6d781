package tiles_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/waterline-gis/waterline/gis"
	"github.com/waterline-gis/waterline/gis/store"
	"github.com/waterline-gis/waterline/gis/tiles"
)

// A tile of the map's network source: pipes, valves, hydrants and sources in
// one MVT, cached under the network version.
func ExampleService_Tile() {
	ctx := context.Background()
	pool, err := store.Connect(ctx, os.Getenv("DATABASE_URL"), 10*time.Second)
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	svc := tiles.New(pool, 4548, 256<<20)
	version, err := store.New(pool, 4548, gis.DefaultGradeRules(), nil).Version(ctx)
	if err != nil {
		log.Fatal(err)
	}
	mvt, err := svc.Tile(ctx, "network", 14, 13509, 6317, version)
	if err != nil {
		log.Fatal(err) // errors.Is(err, tiles.ErrOutOfRange) → 400, tiles.ErrUnknownLayer → 404
	}
	fmt.Println(len(mvt) > 0)
}
