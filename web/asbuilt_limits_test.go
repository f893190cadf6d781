package web_test

import "github.com/waterline-gis/waterline/gis/asbuilt"

var asbuiltLimits = asbuilt.Limits{MaxBytes: 4 << 20}
