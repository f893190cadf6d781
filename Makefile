# Waterline. `make demo` starts the service with a demo network on a map;
# `make test` runs every test against a real PostGIS. Both set up what they
# need on a fresh Debian/Ubuntu machine (PostgreSQL + PostGIS from apt, in
# .pgdata/ on port 55432, unless DATABASE_URL / WATERLINE_TEST_DATABASE_URL
# name a server).

GO       ?= go
BIN      := bin/waterline
DEMO_PIPES ?= 20000

.PHONY: all build demo test bench deps ui fmt vet clean stop-db

all: build

build:
	$(GO) build -o $(BIN) ./cmd/waterline

# deps installs what the tests need beyond Go and PostGIS: Chromium for the
# browser tests, CJK fonts so its screenshots show the Chinese UI, and
# GDAL's ogr2ogr for shapefile, GeoPackage and DXF surveys.
deps:
	@{ command -v chromium >/dev/null 2>&1 && command -v ogr2ogr >/dev/null 2>&1 && [ -d /usr/share/fonts/opentype/noto ]; } || { \
	  echo "installing chromium, fonts-noto-cjk and gdal-bin with apt" >&2; \
	  s=""; [ "$$(id -u)" = 0 ] || s=sudo; \
	  $$s apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$s apt-get install -y -qq chromium fonts-noto-cjk gdal-bin >/dev/null; }

demo: build
	@set -e; \
	if [ -z "$$DATABASE_URL" ]; then \
	  admin=$$(.ci/postgis.sh start) || exit 1; \
	  psql "$$admin" -qAtc "SELECT 1 FROM pg_database WHERE datname = 'waterline'" | grep -q 1 || psql "$$admin" -qc "CREATE DATABASE waterline"; \
	  export DATABASE_URL=$$(echo "$$admin" | sed 's#/postgres?#/waterline?#'); \
	fi; \
	$(BIN) gen --pipes $(DEMO_PIPES) --seed 7 --import --if-empty; \
	$(BIN) user ensure-admin -reset; \
	exec $(BIN) serve

test: deps
	@set -e; \
	if [ -z "$$WATERLINE_TEST_DATABASE_URL" ]; then url=$$(.ci/postgis.sh start); export WATERLINE_TEST_DATABASE_URL=$$url; fi; \
	$(GO) vet ./...; \
	$(GO) test -count=1 -timeout 20m ./...

# bench prints the performance figures of the README (takes minutes).
bench:
	@set -e; \
	if [ -z "$$WATERLINE_TEST_DATABASE_URL" ]; then url=$$(.ci/postgis.sh start); export WATERLINE_TEST_DATABASE_URL=$$url; fi; \
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 60m ./...

# ui rebuilds the embedded map bundle (needs Node.js and npm).
ui:
	cd web/ui && npm ci && npm run build

fmt:
	gofmt -w $$(git ls-files '*.go')

stop-db:
	.ci/postgis.sh stop

clean:
	rm -rf bin
