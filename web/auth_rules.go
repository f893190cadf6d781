package web

import (
	"strings"

	"github.com/waterline-gis/waterline/web/auth"
)

// The access rules: one line for every route of the router, keyed by
// method and mux path template ("*" matches any method). A route without a
// line is refused to everyone (and TestEveryRouteHasARule fails). Adding a
// route means adding its line here.
//
// Roles: an administrator may call every route; the others are listed.
// Scopes narrow a role to its own objects: a district manager to their
// districts, a crew member to the jobs they are assigned; other roles in
// the list are not narrowed.

// roleSet is a set of roles.
type roleSet uint8

var roleBits = map[auth.Role]roleSet{
	auth.Admin: 1, auth.GIS: 2, auth.Dispatcher: 4, auth.DistrictManager: 8, auth.Crew: 16, auth.Viewer: 32,
}

// roles is the set of the given roles and the administrator.
func roles(rs ...auth.Role) roleSet {
	s := roleBits[auth.Admin]
	for _, r := range rs {
		s |= roleBits[r]
	}
	return s
}

func (s roleSet) has(r auth.Role) bool { return s&roleBits[r] != 0 }

// scope says which objects a district manager or crew member may reach
// through a route.
type scope uint8

const (
	scopeNone scope = iota
	// scopeDistrictQuery: ?district= must be one of the manager's (when
	// absent and the manager has one district, it is set to it).
	scopeDistrictQuery
	// scopeDistrictPath: the {id} of the path is a district of theirs.
	scopeDistrictPath
	// scopeDistrictBody: the JSON body's "district" is one of theirs.
	scopeDistrictBody
	// scopeRoute, scopeTrack, scopeAnomaly: the {id} of the path is a
	// patrol route, track or anomaly of one of their districts.
	scopeRoute
	scopeTrack
	scopeAnomaly
	// scopeRouteOrDistrict: ?route= (a route of theirs) and/or ?district=
	// (one of theirs); one of them, or the manager's only district.
	scopeRouteOrDistrict
	// scopeJob: a crew member is assigned the job {id}.
	scopeJob
	// scopeJobMilestone: scopeJob, and the milestone recorded (JSON body)
	// is one a crew records (not the dispatch centre's approval or the
	// closing of the job).
	scopeJobMilestone
	// scopeUIPage: the UI's page redirects to the sign-in page when
	// nobody is signed in; its other files are public.
	scopeUIPage
)

// class is a route's class of limits (see Limits).
type class uint8

const (
	classLight  class = iota // reads and small writes
	classHeavy               // shutoff and patrol plans, the RPP solver
	classExport              // CSV and report exports
	classUpload              // GPS tracks, photos, as-built imports
	classLogin               // sign-in
)

func (c class) String() string {
	return [...]string{"light", "heavy", "export", "upload", "login"}[c]
}

// audit says what the audit log records of a route.
type auditKind uint8

const (
	auditNone   auditKind = iota
	auditChange           // a state change: every call, with its outcome
	auditExport           // an export of customers' contact data
)

// access is one rule.
type access struct {
	public bool    // anyone, signed in or not
	roles  roleSet // who may, when not public
	scope  scope
	class  class
	audit  auditKind
	// body is the largest request body accepted (methods with a body);
	// 0 means maxBody.
	body int64
	// stampBy sets the JSON body's "by" to the signed-in user's name:
	// who recorded a milestone is who signed in, not what a client says.
	stampBy bool
}

// Role sets used by several rules.
var (
	everyone    = roles(auth.GIS, auth.Dispatcher, auth.DistrictManager, auth.Crew, auth.Viewer)
	patrolRead  = roles(auth.GIS, auth.Dispatcher, auth.DistrictManager, auth.Viewer)
	jobRead     = roles(auth.Dispatcher, auth.Viewer)
	asbuiltRead = roles(auth.GIS, auth.Dispatcher, auth.Viewer)
	adminOnly   = roles()
)

// Upload sizes (the patrol rules bound what is kept; these bound what is
// read).
// New raises them to the configured limits of the patrol rules and the
// as-built store, plus room for a multipart form.
const (
	maxTrackUpload  = 40 << 20
	maxPhotoUpload  = 8 << 20
	maxImportUpload = 80 << 20
	formOverhead    = 2 << 20
)

func accessRules() map[string]access {
	return map[string]access{
		// Process health for load balancers; metrics for administrators
		// (Prometheus scrapes the metrics listener, WATERLINE_METRICS_ADDR,
		// or uses an administrator's API token).
		"GET /healthz": {public: true},
		"GET /readyz":  {public: true},
		"GET /metrics": {roles: adminOnly},

		// The UI: its files are public (they hold no data); the page sends
		// a signed-out browser to the sign-in page.
		"* /":                   {public: true, scope: scopeUIPage},
		"GET /login":            {public: true},
		"* /api/":               {public: true}, // unknown API routes: 404
		"POST /api/login":       {public: true, class: classLogin, body: 16 << 10},
		"POST /api/logout":      {roles: everyone},
		"GET /api/me":           {roles: everyone},
		"POST /api/me/password": {roles: everyone, class: classLogin, audit: auditChange, body: 16 << 10},
		"GET /api/me/jobs":      {roles: everyone},

		// Users, tokens, the audit log.
		"GET /api/users":                  {roles: adminOnly},
		"POST /api/users":                 {roles: adminOnly, audit: auditChange, body: 16 << 10},
		"PATCH /api/users/{name}":         {roles: adminOnly, audit: auditChange, body: 16 << 10},
		"POST /api/users/{name}/password": {roles: adminOnly, audit: auditChange, body: 16 << 10},
		"GET /api/tokens":                 {roles: adminOnly},
		"POST /api/tokens":                {roles: adminOnly, audit: auditChange, body: 16 << 10},
		"DELETE /api/tokens/{id:[0-9]+}":  {roles: adminOnly, audit: auditChange},
		"GET /api/audit":                  {roles: adminOnly},

		// The network, tiles and features.
		"GET /api/config":                    {roles: everyone},
		"GET /api/network":                   {roles: everyone},
		"GET /api/segments/stats":            {roles: everyone},
		"GET /api/search":                    {roles: everyone},
		"GET /tiles/{layer}/{z}/{x}/{y}.mvt": {roles: everyone},
		"GET /tiles/{layer}.json":            {roles: everyone},
		"GET /collections":                   {roles: everyone},
		"GET /collections/{id}/items":        {roles: everyone},

		// Shutoff planning: a plan is a question anyone in the office may
		// ask (critical customers' names and phones are shown to
		// dispatchers only); the customer list and notices are the
		// dispatch centre's.
		"POST /api/shutoffs/plan":         {roles: roles(auth.GIS, auth.Dispatcher, auth.DistrictManager, auth.Viewer), class: classHeavy},
		"GET /api/shutoffs/customers.csv": {roles: roles(auth.Dispatcher), class: classExport, audit: auditExport},
		"POST /api/shutoffs/notice":       {roles: roles(auth.Dispatcher), class: classHeavy},

		// Patrol: district managers see and record their districts only.
		"GET /api/patrol/rules":                                       {roles: everyone},
		"GET /api/patrol/districts":                                   {roles: everyone},
		"PUT /api/patrol/districts/{id}":                              {roles: roles(auth.Dispatcher, auth.DistrictManager), scope: scopeDistrictPath, audit: auditChange},
		"POST /api/patrol/plan":                                       {roles: roles(auth.Dispatcher, auth.DistrictManager), scope: scopeDistrictBody, class: classHeavy, audit: auditChange},
		"GET /api/patrol/routes":                                      {roles: patrolRead, scope: scopeDistrictQuery},
		"GET /api/patrol/routes/{id:[0-9]+}":                          {roles: patrolRead, scope: scopeRoute},
		"GET /api/patrol/routes/{id:[0-9]+}.geojson":                  {roles: patrolRead, scope: scopeRoute},
		"GET /api/patrol/routes/{id:[0-9]+}.gpx":                      {roles: patrolRead, scope: scopeRoute},
		"GET /api/patrol/status":                                      {roles: patrolRead, scope: scopeDistrictQuery},
		"GET /api/patrol/coverage":                                    {roles: patrolRead, scope: scopeRouteOrDistrict},
		"POST /api/patrol/tracks":                                     {roles: roles(auth.Dispatcher, auth.DistrictManager), scope: scopeRouteOrDistrict, class: classUpload, audit: auditChange, body: maxTrackUpload},
		"GET /api/patrol/tracks":                                      {roles: patrolRead, scope: scopeDistrictQuery},
		"GET /api/patrol/tracks/{id:[0-9]+}":                          {roles: patrolRead, scope: scopeTrack},
		"POST /api/patrol/anomalies":                                  {roles: roles(auth.Dispatcher, auth.DistrictManager), scope: scopeDistrictBody, audit: auditChange},
		"GET /api/patrol/anomalies":                                   {roles: patrolRead, scope: scopeDistrictQuery},
		"GET /api/patrol/anomalies/{id:[0-9]+}":                       {roles: patrolRead, scope: scopeAnomaly},
		"POST /api/patrol/anomalies/{id:[0-9]+}/photos":               {roles: roles(auth.Dispatcher, auth.DistrictManager), scope: scopeAnomaly, class: classUpload, audit: auditChange, body: maxPhotoUpload},
		"GET /api/patrol/anomalies/{id:[0-9]+}/photos/{photo:[0-9]+}": {roles: patrolRead, scope: scopeAnomaly},
		"GET /api/patrol/reports/{kind}":                              {roles: patrolRead, scope: scopeDistrictQuery, class: classExport},
		"POST /api/patrol/rpp":                                        {roles: roles(auth.GIS, auth.Dispatcher), class: classHeavy},

		// Repair jobs: the dispatch centre runs them; crews record the
		// milestones of their jobs; viewers read without contact data.
		"POST /api/repair/jobs":                                         {roles: roles(auth.Dispatcher), class: classHeavy, audit: auditChange, stampBy: true},
		"GET /api/repair/jobs":                                          {roles: jobRead},
		"GET /api/repair/jobs.geojson":                                  {roles: jobRead},
		"GET /api/repair/jobs/{id:[0-9]+}":                              {roles: roles(auth.Dispatcher, auth.Viewer, auth.Crew), scope: scopeJob},
		"GET /api/repair/jobs/{id:[0-9]+}/timeline":                     {roles: roles(auth.Dispatcher, auth.Viewer, auth.Crew), scope: scopeJob},
		"POST /api/repair/jobs/{id:[0-9]+}/milestones":                  {roles: roles(auth.Dispatcher, auth.Crew), scope: scopeJobMilestone, audit: auditChange, stampBy: true},
		"GET /api/repair/jobs/{id:[0-9]+}/milestones/{milestone}/photo": {roles: roles(auth.Dispatcher, auth.Viewer, auth.Crew), scope: scopeJob},
		"POST /api/repair/jobs/{id:[0-9]+}/failed-valves":               {roles: roles(auth.Dispatcher, auth.Crew), scope: scopeJob, class: classHeavy, audit: auditChange, stampBy: true},
		"POST /api/repair/jobs/{id:[0-9]+}/cancel":                      {roles: roles(auth.Dispatcher), audit: auditChange, stampBy: true},
		"GET /api/repair/jobs/{id:[0-9]+}/notice":                       {roles: roles(auth.Dispatcher, auth.Crew), scope: scopeJob},
		"GET /api/repair/jobs/{id:[0-9]+}/crew":                         {roles: roles(auth.Dispatcher, auth.Viewer, auth.Crew), scope: scopeJob},
		"PUT /api/repair/jobs/{id:[0-9]+}/crew":                         {roles: roles(auth.Dispatcher), audit: auditChange, body: 16 << 10},
		"GET /api/repair/escalations":                                   {roles: jobRead},
		"GET /api/repair/report":                                        {roles: jobRead, class: classExport},
		"GET /api/repair/report.csv":                                    {roles: jobRead, class: classExport},
		"GET /api/repair/rules":                                         {roles: everyone},
		"GET /api/repair/calendar":                                      {roles: everyone},
		"PUT /api/repair/calendar":                                      {roles: roles(auth.Dispatcher), audit: auditChange, stampBy: true},

		// As-built surveys: GIS staff import, approve others' batches (the
		// four-eyes rule is the store's), commit and roll back; the office
		// reads them. The acting user is the signed-in one (the guard sets
		// X-Waterline-User). The upload's size follows the store's limit.
		"POST /api/asbuilt/batches":                      {roles: roles(auth.GIS), class: classUpload, audit: auditChange, body: maxImportUpload},
		"GET /api/asbuilt/batches":                       {roles: asbuiltRead},
		"GET /api/asbuilt/batches/{id:[0-9]+}":           {roles: asbuiltRead},
		"GET /api/asbuilt/batches/{id:[0-9]+}/preview":   {roles: asbuiltRead, class: classExport},
		"POST /api/asbuilt/batches/{id:[0-9]+}/validate": {roles: roles(auth.GIS), class: classHeavy, audit: auditChange},
		"POST /api/asbuilt/batches/{id:[0-9]+}/approve":  {roles: roles(auth.GIS), audit: auditChange},
		"POST /api/asbuilt/batches/{id:[0-9]+}/reject":   {roles: roles(auth.GIS), audit: auditChange},
		"POST /api/asbuilt/batches/{id:[0-9]+}/commit":   {roles: roles(auth.GIS), class: classHeavy, audit: auditChange},
		"POST /api/asbuilt/batches/{id:[0-9]+}/rollback": {roles: roles(auth.GIS), class: classHeavy, audit: auditChange},
		"GET /api/asbuilt/crs":                           {roles: asbuiltRead},
		"PUT /api/asbuilt/crs/{name}":                    {roles: roles(auth.GIS), audit: auditChange},
		"GET /api/network/history":                       {roles: everyone},
	}
}

// crewMilestones are the milestones a crew member may record; the
// approval and the closing are the dispatch centre's.
func crewMayRecord(m string) bool {
	switch strings.TrimSpace(m) {
	case "approved", "closed":
		return false
	}
	return true
}
