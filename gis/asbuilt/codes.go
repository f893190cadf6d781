// Package asbuilt reads as-built survey deliveries — the Chinese pipeline
// point table (管线点成果表, CJJ 61) as .xlsx or CSV, and Shapefile,
// GeoPackage and DXF through GDAL — into a gis.Dataset, and validates a
// survey against the live network before it is committed.
//
// The package is pure: it does no database work. gis/store runs the
// workflow (batches, staging, preview, approval, commit, history) and
// calls Read, DetectCRS and Validate.
//
// Every finding is an Issue with a stable Code (below), a Severity and the
// source row or feature it comes from. Errors block a batch; warnings must
// be acknowledged before it is approved.
package asbuilt

// Issue codes. They are stable: the API, the UI and the tests match on them.
const (
	// The file as a whole.
	CodeFileUnreadable = "file.unreadable"  // corrupt, truncated, not what its name says
	CodeFileWrongType  = "file.wrong_type"  // a format that is not accepted (e.g. .doc, an image)
	CodeFileTooLarge   = "file.too_large"   // over the upload limit
	CodeFileZipBomb    = "file.zip_bomb"    // an archive that expands beyond the limits
	CodeFileEncoding   = "file.encoding"    // text that is neither UTF-8 nor GBK/GB18030
	CodeFileEmpty      = "file.empty"       // no data rows or features
	CodeSheetNotFound  = "sheet.not_found"  // no sheet with a point table (or the one named)
	CodeColumnMissing  = "column.missing"   // a required column (point, X, Y, connecting point) is not found
	CodeCellBadNumber  = "cell.bad_number"  // a coordinate or elevation cell that is not a number
	CodeMappingBad     = "mapping.bad"      // the mapping file cannot be used
	CodeGDALMissing    = "gdal.unavailable" // ogr2ogr is not installed
	CodeFeatureBad     = "feature.bad"      // a GIS feature that cannot be used (wrong geometry, no id)

	// CRS.
	CodeCRSMissing     = "crs.missing"     // no CRS given and none can be told from the coordinates
	CodeCRSUnknown     = "crs.unknown"     // a CRS name that is not known (EPSG code, registered local system)
	CodeCRSImplausible = "crs.implausible" // the survey lands outside the deployment's area
	CodeCRSSwappedXY   = "crs.swapped_xy"  // warning: X holds eastings and Y northings; swapped back
	CodeCRSZonePrefix  = "crs.zone_prefix" // warning: eastings carry a zone prefix; CRS adjusted
	CodeCRSAssumed     = "crs.assumed"     // warning: no CRS given; one was inferred

	// Points and pipes of a point table.
	CodePointNoNumber        = "point.no_number"          // a data row before any point number
	CodePointNoCoordinates   = "point.no_coordinates"     // a point without X/Y
	CodePointDuplicate       = "point.duplicate"          // one point number at different coordinates
	CodePointUnknownConnect  = "point.unknown_connection" // 连接点号 names a point that is not in the table
	CodePipeListingConflict  = "pipe.listing_conflict"    // warning: the two listings of a pipe disagree on DN or material
	CodePipeZeroLength       = "pipe.zero_length"         // a pipe whose ends coincide (or a point connected to itself)
	CodePipeSelfIntersecting = "pipe.self_intersecting"   // a polyline that crosses itself
	CodePipeDanglingEnd      = "pipe.dangling_end"        // warning: an end that meets nothing and is not an end feature
	CodePipeNearMiss         = "pipe.near_miss"           // warning: ends within 0.5 m of another pipe that do not meet
	CodePipeCrossingNoNode   = "pipe.crossing_without_node"
	CodePipeDNMissing        = "pipe.dn_missing"       // no diameter
	CodePipeDNImplausible    = "pipe.dn_implausible"   // a diameter outside 15–4000 mm, or unreadable
	CodePipeDNNonstandard    = "pipe.dn_nonstandard"   // warning: not a standard nominal size
	CodePipeMaterialMissing  = "pipe.material_missing" // warning
	CodePipeMaterialUnknown  = "pipe.material_unknown" // warning: not a known pipe material
	CodePipeDuplicatesLive   = "pipe.duplicates_live"  // a new pipe lying on a live one
	CodeValveNotOnPipe       = "valve.not_on_pipe"     // a valve with no pipe at its point
	CodeHydrantNotOnPipe     = "hydrant.not_on_pipe"   // warning
	CodeTeeWrongDegree       = "tee.wrong_degree"      // 三通 without 3 pipes, 四通 without 4
	CodeNetworkIsland        = "network.island"        // new pipes with no path to any source once tied in
	CodeNetworkNoSources     = "network.no_sources"    // warning: the live network has no source; islands not checked
	CodeTieSnapped           = "tie.snapped"           // warning: a tie-in end moved onto the live pipe it meets
	CodeTieNotFound          = "tie.not_found"         // warning: a declared tie-in with no live pipe within reach
	CodeIDConflict           = "feature.id_conflict"   // warning: a feature id already live (it will be replaced)
	CodeTooManyIssues        = "input.too_many_issues" // the issue cap was reached
)

// Severity of an issue.
const (
	SevError   = "error"
	SevWarning = "warning"
)
