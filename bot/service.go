package bot

import (
	"context"
	"strings"
	"time"
)

// GroupKind says what a group is for; it chooses default schedules and which
// tips fit.
type GroupKind string

const (
	GroupCommunity GroupKind = "community" // village, community or resident group
	GroupClass     GroupKind = "class"     // school class or parent group
	GroupOther     GroupKind = "other"     // not yet bound, or neither
)

// Label is the kind as people read it: 社区群, 班级群.
func (k GroupKind) Label() string {
	switch k {
	case GroupCommunity:
		return "社区群"
	case GroupClass:
		return "班级群"
	}
	return "其他"
}

// MaxGroupSize bounds the member count a counsellor can give a group.
const MaxGroupSize = 100000

// MaxQuizQuestions bounds the questions of one quiz round.
const MaxQuizQuestions = 10

// kindSuffixes infers a unit's level from how its name ends, longest first.
var kindSuffixes = []struct {
	suffix string
	kind   OrgKind
}{
	{"居委会", OrgCommunity}, {"村委会", OrgVillage}, {"社区", OrgCommunity}, {"小区", OrgCommunity},
	{"幼儿园", OrgSchool}, {"小学", OrgSchool}, {"中学", OrgSchool}, {"大学", OrgSchool},
	{"学院", OrgSchool}, {"学校", OrgSchool}, {"高中", OrgSchool}, {"初中", OrgSchool},
	{"职校", OrgSchool}, {"街道", OrgTown}, {"班", OrgClass}, {"村", OrgVillage},
	{"镇", OrgTown}, {"乡", OrgTown}, {"区", OrgDistrict}, {"县", OrgDistrict},
}

// OrgKindOfName infers a unit's level from how its name ends: 幸福社区 is
// a community, 城关镇 a town.
func OrgKindOfName(name string) (OrgKind, bool) {
	for _, k := range kindSuffixes {
		if strings.HasSuffix(name, k.suffix) && name != k.suffix {
			return k.kind, true
		}
	}
	return "", false
}

// Audiences a tip or a quiz question is written for (the audiences: field
// of the knowledge files).
const (
	AudienceEveryone = "everyone"
	AudienceElderly  = "elderly"
	AudienceFinance  = "finance"
	AudienceStudents = "students"
	AudienceParents  = "parents"
)

// AudiencesFor are the audiences whose tips and questions suit a kind of
// group.
func AudiencesFor(kind GroupKind) map[string]bool {
	switch kind {
	case GroupCommunity:
		return map[string]bool{AudienceEveryone: true, AudienceElderly: true, AudienceFinance: true}
	case GroupClass:
		return map[string]bool{AudienceEveryone: true, AudienceStudents: true, AudienceParents: true}
	}
	return map[string]bool{AudienceEveryone: true}
}

// OrgKind is the level of an org unit: district → town → village/community/school → class.
type OrgKind string

const (
	OrgDistrict  OrgKind = "district"
	OrgTown      OrgKind = "town"
	OrgVillage   OrgKind = "village"
	OrgCommunity OrgKind = "community"
	OrgSchool    OrgKind = "school"
	OrgClass     OrgKind = "class"
)

// OrgUnit is one node of the administrative tree the campaign reports on.
type OrgUnit struct {
	ID         int64   `json:"id"`
	ParentID   int64   `json:"parent_id,omitempty"` // 0 at the top
	Kind       OrgKind `json:"kind"`
	Name       string  `json:"name"`
	Population int     `json:"population,omitempty"`
}

// Group is a chat group the bot is in.
type Group struct {
	ID         int64      `json:"id"`
	Channel    string     `json:"channel"`
	PlatformID string     `json:"platform_id"`
	Name       string     `json:"name"`
	Kind       GroupKind  `json:"kind"`
	OrgUnit    *OrgUnit   `json:"org_unit,omitempty"` // nil while unbound
	BoundBy    int64      `json:"-"`                  // member ID of the counsellor who bound it
	BoundAt    *time.Time `json:"bound_at,omitempty"`
	Size       int        `json:"size,omitempty"` // member count if known
	CreatedAt  time.Time  `json:"created_at"`
	// WarnScams overrides whether the bot warns the group about scam
	// messages nobody asked about; nil means the default for the kind.
	WarnScams *bool `json:"warn_scams,omitempty"`
	// ShareSamples: the group agreed that checked messages are kept to
	// improve the knowledge base. Off unless a counsellor turns it on.
	ShareSamples bool `json:"share_samples"`
	// Schedule is the counsellor's own weekly tip schedule ("2,5 10:00");
	// empty means the default for the kind.
	Schedule string `json:"schedule,omitempty"`
	// QuizSchedule is when quiz rounds start on their own ("3 20:00");
	// empty for none.
	QuizSchedule string `json:"quiz_schedule,omitempty"`
	// WebhookKey is a WeCom group robot key to post with; never shown.
	WebhookKey string `json:"-"`
	// RemovedAt is when the platform said the bot is no longer in the group;
	// nothing is posted there until it speaks to the bot again.
	RemovedAt *time.Time `json:"removed_at,omitempty"`
}

// WarnsScams reports whether the bot speaks up about scam messages in the
// group: by default in community groups, where the elderly are, and in
// class groups about the few scams aimed at the parents there
// (WarnsOnlyClassScams).
func (g *Group) WarnsScams() bool {
	if g.WarnScams != nil {
		return *g.WarnScams
	}
	return g.Kind == GroupCommunity || g.Kind == GroupClass
}

// WarnsOnlyClassScams reports whether the group's warnings are limited to
// the scams aimed at a class's parents: a class group whose counsellor has
// not chosen (开启预警 switches on every warning, 关闭预警 every one off).
func (g *Group) WarnsOnlyClassScams() bool { return g.WarnScams == nil && g.Kind == GroupClass }

// GroupUpdate changes a group's settings; nil fields stay as they are.
type GroupUpdate struct {
	WarnScams    *bool
	ShareSamples *bool
	Size         *int
	Schedule     *string
	// Removed marks the bot removed from the group (true) or back (false).
	Removed      *bool
	WebhookKey   *string
	QuizSchedule *string
}

// Bound reports whether a counsellor has bound the group to an org unit.
func (g *Group) Bound() bool { return g.OrgUnit != nil }

// Member is a person seen in a chat, known only by a pseudonym: the HMAC of
// their platform user ID under a per-install secret.
type Member struct {
	ID          int64
	Channel     string
	Pseudonym   string
	DisplayName string
}

// Role is what an admin web account may do.
type Role string

const (
	RoleAdmin      Role = "admin"      // sees everything under its org unit
	RoleCounsellor Role = "counsellor" // sees the groups its chat identity bound
)

// CheckLevel is the outcome of a scam check, as reports count it.
type CheckLevel string

const (
	CheckHigh       CheckLevel = "high"
	CheckSuspicious CheckLevel = "suspicious"
	CheckNone       CheckLevel = "none"
	CheckLookup     CheckLevel = "lookup" // a number or link looked up, not a message judged
)

// EventKind is what a participation event records.
type EventKind string

// Kinds of event. The store counts them for reports; the details are
// short codes, never message text.
const (
	EventScamCheck  EventKind = "scam_check"  // level: CheckLevel; detail: the scam type or the entity looked up
	EventWarning    EventKind = "warning"     // an unrequested group warning; detail: the scam type
	EventQuizAnswer EventKind = "quiz_answer" // detail: "correct" or "wrong"
	EventHelp       EventKind = "help"
	EventBind       EventKind = "bind" // detail: the kind of unit bound to
	// EventCampaignAnswer: 收到, 我承诺 or a survey answer; detail: the
	// campaign's kind.
	EventCampaignAnswer EventKind = "campaign_answer"
	// EventReport: a 举报; detail: the kind of item reported.
	EventReport EventKind = "report"
)

// Event is one act of participation: a scam check asked, a quiz answer, a
// help request. Reports count these.
type Event struct {
	GroupID  int64 // 0 for 1:1 chats
	MemberID int64
	Kind     EventKind
	Level    CheckLevel // scam checks only
	Detail   string     // short, never message text
	At       time.Time
}

// GroupFilter selects groups. Zero fields match everything.
type GroupFilter struct {
	ID         int64
	Channel    string
	PlatformID string // with Channel
	Bound      *bool
	// Active leaves out groups the bot was removed from.
	Active bool
}

// GroupStore keeps the groups the bot is in and their binding to org units.
type GroupStore interface {
	// EnsureGroup returns the group, creating it at first sight and keeping
	// its name current.
	EnsureGroup(ctx context.Context, channel, platformID, name string) (*Group, error)
	FindGroups(ctx context.Context, f GroupFilter) ([]*Group, error)
	// BindGroup attaches the group to the org unit at path (outermost first),
	// creating units that do not exist yet. by is the binding counsellor.
	BindGroup(ctx context.Context, groupID int64, path []OrgUnit, by int64) (*Group, error)
	UnbindGroup(ctx context.Context, groupID int64) error
	UpdateGroup(ctx context.Context, groupID int64, u GroupUpdate) (*Group, error)
}

// MemberStore turns platform user IDs into pseudonymous members.
type MemberStore interface {
	// EnsureMember returns the member for a raw platform user ID. The raw ID
	// is never stored.
	EnsureMember(ctx context.Context, channel, platformUserID, displayName string) (*Member, error)
}

// Inbox makes message handling exactly-once as far as users can tell: a
// message is recorded before it is handled, redeliveries are refused, and
// messages accepted but not finished before a crash are handled at restart.
type Inbox interface {
	// Accept records msg durably. It returns an error with code EDUPLICATE
	// if the same message was accepted before, even in an earlier process.
	Accept(ctx context.Context, msg *Message) error
	// Done marks the message handled and forgets its text, and records
	// the participation events its handling produced, in one transaction:
	// a crash leaves either both or neither, so a replayed message is never
	// counted twice.
	Done(ctx context.Context, msg *Message, events []Event) error
	// Pending returns messages of channel accepted but never marked done.
	Pending(ctx context.Context, channel string) ([]*Message, error)
}

// LeaseStore lets one of several replicas hold something only one may hold
// at a time, such as a platform's single long connection.
type LeaseStore interface {
	// Lease takes or renews name for holder until now+ttl. It reports false
	// while another holder's lease has not expired.
	Lease(ctx context.Context, name, holder string, ttl time.Duration, now time.Time) (bool, error)
	// Release gives name up if holder holds it.
	Release(ctx context.Context, name, holder string) error
	// Live counts the leases named with prefix that have not expired at
	// now: how many replicas say they are there.
	Live(ctx context.Context, prefix string, now time.Time) (int, error)
}

// EventFilter selects events. Zero fields match everything.
type EventFilter struct {
	GroupID int64
	Kind    EventKind
	Detail  string
	Since   time.Time
	Until   time.Time // exclusive; zero for no end
}

// EventReader lists events, newest first: what a group page shows of
// them (kind, detail, time; never text).
type EventReader interface {
	FindEvents(ctx context.Context, f EventFilter, limit int) ([]Event, error)
}

// EventStore records participation.
type EventStore interface {
	CreateEvent(ctx context.Context, e *Event) error
	CountEvents(ctx context.Context, f EventFilter) (int, error)
}
