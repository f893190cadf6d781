package netjson

// Issue codes reported by Read. They are stable: tools and tests may match
// on them. Errors make Read fail (they are collected into a
// *gis.InvalidError); warnings are returned next to a valid Dataset.
const (
	// Errors about the input as a whole.
	CodeJSONSyntax           = "json.syntax"                 // not JSON (also NaN/Infinity literals, truncated input)
	CodeNotFeatureCollection = "json.not_feature_collection" // valid JSON, but not a FeatureCollection
	CodeTooLarge             = "input.too_large"             // more than Options.MaxBytes
	CodeTooManyErrors        = "input.too_many_errors"       // the error cap was reached; reading stopped

	// Errors about one feature.
	CodeNotFeature    = "feature.not_feature"  // an element of features is not a {"type":"Feature"} object
	CodeNoKind        = "feature.no_kind"      // properties.kind missing or not a string
	CodeNoID          = "feature.no_id"        // properties.id missing, null or empty
	CodeBadID         = "feature.bad_id"       // properties.id neither a string nor a number
	CodeDuplicateID   = "feature.duplicate_id" // a second feature of the same kind with the same id
	CodeBadProperty   = "property.bad_type"    // a known property has the wrong JSON type
	CodeGeomMissing   = "geometry.missing"     // null, absent or empty geometry where one is required
	CodeGeomWrongType = "geometry.wrong_type"  // e.g. a Point for a pipe
	CodeGeomBadCoords = "geometry.bad_coordinates"
	CodeGeomTooFew    = "geometry.too_few_points" // line < 2 positions, ring < 4, empty polygon
	CodeGeomNotFinite = "geometry.not_finite"     // a coordinate overflows float64 (e.g. 1e999)
	CodeGeomMixedDims = "geometry.mixed_dimensions"
	CodeGeomNotClosed = "geometry.ring_not_closed"
	CodePipeBadDN     = "pipe.bad_dn"
	CodePipeUnknownDN = "pipe.unknown_dn" // warning: "dn": null
	CodePipeBadStatus = "pipe.bad_status"
	CodePipeBadRole   = "pipe.bad_role"
	CodePipeBadCross  = "pipe.bad_crossing"
	CodePipeBadYear   = "pipe.bad_install_year"
	CodeValveBadDN    = "valve.bad_dn"
	CodeValveBadBool  = "valve.bad_bool"
	CodeCustBadHH     = "customer.bad_households"

	// CRS errors.
	CodeCRSUnknown  = "crs.unknown"  // the crs member cannot be understood
	CodeCRSMissing  = "crs.missing"  // projected-looking coordinates and no CRS anywhere
	CodeCRSConflict = "crs.conflict" // Options.SRID and the file's crs disagree

	// Warnings.
	CodeUnknownKind       = "feature.unknown_kind"     // feature skipped
	CodeDuplicateVertices = "pipe.duplicate_vertices"  // consecutive equal vertices (kept as they are)
	CodeZeroLength        = "pipe.zero_length"         // every vertex at the same spot
	CodeExtraOrdinates    = "geometry.extra_ordinates" // positions with more than 3 numbers; the rest dropped
	CodeSourceType        = "source.unknown_type"      // type not plant|reservoir|tank|booster|well (kept)
	CodeCustNoSupply      = "customer.no_supply"       // no geometry, connection or pipe: can never be placed
	CodeBadMember         = "collection.bad_member"    // a top-level name/proj/provenance that is not understood (ignored)
	CodeTooManyWarnings   = "input.too_many_warnings"  // the warning cap was reached; the rest are counted only
)
