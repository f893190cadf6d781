package repair

import (
	"encoding/json"
	"time"
)

// WorkOrder is the work order of §4: information source, address,
// contact, reporter, content, fault category, responsible unit, deadline
// and customer contact time.
type WorkOrder struct {
	Source          string `json:"source"`
	Address         string `json:"address"`
	Contact         string `json:"contact"`
	Reporter        string `json:"reporter"`
	Content         string `json:"content"`
	FaultCategory   string `json:"fault_category"`
	ResponsibleUnit string `json:"responsible_unit"`
	// Deadline is the order's own deadline; when set, it is the due time
	// of closing the job.
	Deadline *time.Time `json:"deadline,omitempty"`
	// CustomerContactTime is when the customer wants to be contacted, as
	// the customer said it ("after 18:00").
	CustomerContactTime string `json:"customer_contact_time"`
}

// Window is a planned shutoff's time and reason.
type Window struct {
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
	Reason string    `json:"reason"`
}

// JobLeak is where the job's shutoff isolates: the leak, or the work site
// of a planned shutoff.
type JobLeak struct {
	Pipe string   `json:"pipe"`
	At   float64  `json:"at"`
	DN   int      `json:"dn"`
	Lon  *float64 `json:"lon,omitempty"`
	Lat  *float64 `json:"lat,omitempty"`
}

// Job is a repair job or a planned shutoff as the API shows it. Times are
// in the utility's zone. List gives the summary fields; Get adds the
// detail (timeline, plan, failures, escalations, conflicts, valve actions).
type Job struct {
	ID              int64     `json:"id"`
	Kind            Kind      `json:"kind"`
	Status          string    `json:"status"` // open, closed, cancelled
	OrderedAt       time.Time `json:"ordered_at"`
	CreatedAt       time.Time `json:"created_at"`
	CreatedBy       string    `json:"created_by"`
	Order           WorkOrder `json:"order"`
	CallbackAtNight bool      `json:"callback_at_night"`
	Leak            JobLeak   `json:"leak"`
	District        string    `json:"district"`
	Planned         *Window   `json:"planned,omitempty"`
	NoticeLeadHours int       `json:"notice_lead_hours,omitempty"`
	// ConflictAccepted: a planned shutoff opened despite a conflict.
	ConflictAccepted bool  `json:"conflict_accepted,omitempty"`
	NetworkVersion   int64 `json:"network_version"`
	// Valves are the valves the job keeps closed while Holding (valves
	// closed recorded, valves reopened not yet).
	Valves       []string   `json:"valves"`
	Holding      bool       `json:"holding"`
	Customers    int        `json:"customers"`
	Households   int64      `json:"households"`
	FailedValves []string   `json:"failed_valves"`
	ClosedAt     *time.Time `json:"closed_at,omitempty"`
	CancelReason string     `json:"cancel_reason,omitempty"`
	// Next is the earliest deadline not yet met; Overdue the milestones
	// past their due time.
	Next    *Step       `json:"next,omitempty"`
	Overdue []Milestone `json:"overdue"`

	Timeline     []Step          `json:"timeline,omitempty"`
	Plan         json.RawMessage `json:"plan,omitempty"` // the shutoff plan as planned (PlanResponse)
	Failures     []ValveFailure  `json:"valve_failures,omitempty"`
	Escalations  []Escalation    `json:"escalations,omitempty"`
	Conflicts    []Conflict      `json:"conflicts,omitempty"`
	ValveActions *ValveActions   `json:"valve_actions,omitempty"`
	// Notice is the shutoff notice, given when a planned shutoff is opened.
	Notice *Notice `json:"notice,omitempty"`

	facts Facts
}

// ValveFailure is a valve that failed on site, and what the plan redone
// without it added.
type ValveFailure struct {
	Valve           string    `json:"valve"`
	At              time.Time `json:"at"`
	RecordedAt      time.Time `json:"recorded_at"`
	By              string    `json:"by"`
	Note            string    `json:"note,omitempty"`
	ExtraValves     []string  `json:"extra_valves"`
	ExtraCustomers  []string  `json:"extra_customers"`
	ExtraHouseholds int64     `json:"extra_households"`
}

// Conflict is another open planned shutoff overlapping this one in time
// and sharing valves or customers.
type Conflict struct {
	JobID           int64     `json:"job_id"`
	Start           time.Time `json:"start"`
	End             time.Time `json:"end"`
	SharedValves    []string  `json:"shared_valves"`
	SharedCustomers int       `json:"shared_customers"`
}

// HeldValve is a valve held closed by other open jobs.
type HeldValve struct {
	Valve string  `json:"valve"`
	Jobs  []int64 `json:"jobs"`
}

// ValveActions tells the crew what to do with the job's valves now. Before
// the valves are closed: Close, and AlreadyClosed (held by other jobs).
// While holding: Open on reopening, and KeepClosed (another open job still
// holds them: reopening never opens them).
type ValveActions struct {
	Stage         string      `json:"stage"` // "close" or "reopen"
	Close         []string    `json:"close,omitempty"`
	AlreadyClosed []HeldValve `json:"already_closed,omitempty"`
	Open          []string    `json:"open,omitempty"`
	KeepClosed    []HeldValve `json:"keep_closed,omitempty"`
}

// Escalation is an overdue milestone found by the scan, and its delivery
// to the webhook.
type Escalation struct {
	ID         int64      `json:"id"`
	JobID      int64      `json:"job_id"`
	Milestone  Milestone  `json:"milestone"`
	Label      string     `json:"label"`
	Due        time.Time  `json:"due"`
	DetectedAt time.Time  `json:"detected_at"`
	Delivery   string     `json:"delivery"` // none, pending, sent, failed
	Attempts   int        `json:"attempts"`
	LastError  string     `json:"last_error,omitempty"`
	SentAt     *time.Time `json:"sent_at,omitempty"`
	// ResolvedAt is when the milestone was recorded, if it is.
	ResolvedAt *time.Time `json:"resolved_at,omitempty"`
	District   string     `json:"district"`
	Address    string     `json:"address"`
	kind       Kind
}
