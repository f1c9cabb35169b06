package connectsim

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// The directory of an instance: users, routing and security profiles and the agent hierarchy,
// as the world file sets them and the user operations change them.

// Identifiers of the default world's directory.
const (
	DefaultSecurityProfileAdminID   = "66666666-7777-4888-8999-000000000001"
	DefaultSecurityProfileAgentID   = "66666666-7777-4888-8999-000000000002"
	DefaultSecurityProfileManagerID = "66666666-7777-4888-8999-000000000003"
	DefaultSecurityProfileQAID      = "66666666-7777-4888-8999-000000000004"
	// DefaultHierarchyGroupID is the default world's level-five group (team "Reminders"), the
	// group of its three users.
	DefaultHierarchyGroupID = "77777777-8888-4999-8aaa-000000000005"
)

// Identity management types of an instance (IdentityManagementType in the API reference).
const (
	IdentityConnectManaged    = "CONNECT_MANAGED"
	IdentitySAML              = "SAML"
	IdentityExistingDirectory = "EXISTING_DIRECTORY"
)

// Phone types of a user's phone configuration.
const (
	PhoneSoft = "SOFT_PHONE"
	PhoneDesk = "DESK_PHONE"
)

// RoutingProfile decides which queues its users serve.
type RoutingProfile struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Queues the profile's users serve; empty: every queue of the instance.
	Queues []string `json:"queues,omitempty"`
}

// SecurityProfile is a set of permissions a user holds.
type SecurityProfile struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Hierarchy is the agent hierarchy of an instance: up to five named levels and groups, each
// group a child of a group of the level above.
type Hierarchy struct {
	// Levels are the names of levels one to five (at most five).
	Levels []string         `json:"levels"`
	Groups []HierarchyGroup `json:"groups,omitempty"`
}

// HierarchyGroup is a group of the agent hierarchy. Its level is one more than its parent's;
// a group without a parent is on level one.
type HierarchyGroup struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	ParentID string `json:"parentId,omitempty"`
}

// User is a user of the instance as the world file gives it: an agent once it is listed in
// the instance's agents (or staffed through the admin API), serving the queues of its routing
// profile, with after-contact work from its phone configuration.
type User struct {
	ID        string `json:"id"`
	Username  string `json:"username"`
	FirstName string `json:"firstName,omitempty"`
	LastName  string `json:"lastName,omitempty"`
	Email     string `json:"email,omitempty"`
	// RoutingProfileID defaults to the instance's first routing profile.
	RoutingProfileID string `json:"routingProfileId,omitempty"`
	// SecurityProfileIDs default to the instance's "Agent" profile (else its first).
	SecurityProfileIDs []string `json:"securityProfileIds,omitempty"`
	HierarchyGroupID   string   `json:"hierarchyGroupId,omitempty"`
	// PhoneType is SOFT_PHONE (default) or DESK_PHONE (with DeskPhoneNumber, E.164).
	PhoneType       string `json:"phoneType,omitempty"`
	DeskPhoneNumber string `json:"deskPhoneNumber,omitempty"`
	AutoAccept      bool   `json:"autoAccept,omitempty"`
	// AfterContactWorkTimeLimit in seconds: the after-contact work of each of the user's
	// contacts. 0 is Connect's "no limit" (the agent closes the contact when done): the world's
	// calls.afterContactWork.
	AfterContactWorkTimeLimit int `json:"afterContactWorkTimeLimit,omitempty"`
}

// maxACWTimeLimit is the documented maximum of AfterContactWorkTimeLimit: "a maximum value of
// 2,000,000 seconds (24 days)" (API reference, UserPhoneConfig).
const maxACWTimeLimit = 2_000_000

// defaultMaxUsers is the "Users per instance" quota (admin guide, Amazon Connect service
// quotas).
const defaultMaxUsers = 500

// defaultSecurityProfiles are the security profiles every new instance has.
func defaultSecurityProfiles() []SecurityProfile {
	return []SecurityProfile{
		{ID: DefaultSecurityProfileAdminID, Name: "Admin"},
		{ID: DefaultSecurityProfileAgentID, Name: "Agent"},
		{ID: DefaultSecurityProfileManagerID, Name: "CallCenterManager"},
		{ID: DefaultSecurityProfileQAID, Name: "QualityAnalyst"},
	}
}

// defaultDirectory gives the default instance its users (the three agents), a five-level
// hierarchy and the basic routing profile.
func defaultDirectory(in *Instance) {
	in.IdentityManagementType = IdentityConnectManaged
	// The basic profile serves every queue, as the anonymous agents did before users.
	in.RoutingProfiles = []RoutingProfile{{ID: DefaultRoutingProfileID, Name: "Basic Routing Profile"}}
	in.SecurityProfiles = defaultSecurityProfiles()
	in.Hierarchy = &Hierarchy{
		Levels: []string{"Company", "Region", "Site", "Department", "Team"},
		Groups: []HierarchyGroup{
			{ID: "77777777-8888-4999-8aaa-000000000001", Name: "Switchboard"},
			{ID: "77777777-8888-4999-8aaa-000000000002", Name: "North America", ParentID: "77777777-8888-4999-8aaa-000000000001"},
			{ID: "77777777-8888-4999-8aaa-000000000003", Name: "Atlanta", ParentID: "77777777-8888-4999-8aaa-000000000002"},
			{ID: "77777777-8888-4999-8aaa-000000000004", Name: "Outbound", ParentID: "77777777-8888-4999-8aaa-000000000003"},
			{ID: DefaultHierarchyGroupID, Name: "Reminders", ParentID: "77777777-8888-4999-8aaa-000000000004"},
		},
	}
	for i, a := range in.Agents {
		in.Users = append(in.Users, User{
			ID: a.ID, Username: a.Name, FirstName: "Agent", LastName: fmt.Sprint(i + 1),
			RoutingProfileID: DefaultRoutingProfileID, SecurityProfileIDs: []string{DefaultSecurityProfileAgentID},
			HierarchyGroupID: DefaultHierarchyGroupID, PhoneType: PhoneSoft, AutoAccept: true,
		})
	}
}

// directoryDefaults fills what every Connect instance has: the basic routing profile and the
// default security profiles, the Connect-managed identity type and the users quota.
func (in *Instance) directoryDefaults() {
	if in.IdentityManagementType == "" {
		in.IdentityManagementType = IdentityConnectManaged
	}
	if in.MaxUsers == 0 {
		in.MaxUsers = defaultMaxUsers
	}
	if len(in.RoutingProfiles) == 0 {
		in.RoutingProfiles = []RoutingProfile{{ID: DefaultRoutingProfileID, Name: "Basic Routing Profile"}}
	}
	if len(in.SecurityProfiles) == 0 {
		in.SecurityProfiles = defaultSecurityProfiles()
	}
	for i := range in.Users {
		u := &in.Users[i]
		if u.RoutingProfileID == "" {
			u.RoutingProfileID = in.RoutingProfiles[0].ID
		}
		if len(u.SecurityProfileIDs) == 0 {
			u.SecurityProfileIDs = []string{in.SecurityProfiles[0].ID}
			for _, sp := range in.SecurityProfiles {
				if sp.Name == "Agent" {
					u.SecurityProfileIDs = []string{sp.ID}
				}
			}
		}
		if u.PhoneType == "" {
			u.PhoneType = PhoneSoft
		}
	}
}

var (
	// usernameChars is the character set of a SAML username ("up to 64 characters from
	// [a-zA-Z0-9_-.\@]+"), applied to every identity type.
	usernameChars = regexp.MustCompile(`^[a-zA-Z0-9_.@-]+$`)
	// emailPattern is SecondaryEmail's documented pattern without its length lookahead
	// ((?=^.{0,265}$), checked apart).
	emailPattern = regexp.MustCompile(`^[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\.[a-zA-Z]{2,63}$`)
)

// usernameProblem applies the API reference's username rules for the instance's identity
// management type: "For instances not using SAML for identity management, the user name can
// include up to 20 characters. If you are using SAML for identity management, the user name can
// include up to 64 characters from [a-zA-Z0-9_-.\@]+. Username can include @ only if used in an
// email format."
func usernameProblem(identity, name string) string {
	max := 20
	if identity == IdentitySAML {
		max = 64
	}
	switch {
	case utf8.RuneCountInString(name) > max:
		return fmt.Sprintf("Username can include up to %d characters for an instance with %s identity management", max, identity)
	case !usernameChars.MatchString(name):
		return "Username can include only the characters [a-zA-Z0-9_-.@]"
	case strings.Contains(name, "@") && !emailPattern.MatchString(name):
		return "Username can include @ only in an email format, like testuser@example.com"
	}
	return ""
}

// emailProblem checks an email address against the documented pattern.
func emailProblem(member, v string) string {
	if utf8.RuneCountInString(v) > 265 || !emailPattern.MatchString(v) {
		return member + " is not an email address"
	}
	return ""
}

// validateDirectory reports the problems of an instance's directory, with JSON paths.
func (in *Instance) validateDirectory(p string) []error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	switch in.IdentityManagementType {
	case IdentityConnectManaged, IdentitySAML, IdentityExistingDirectory:
	default:
		bad("%s.identityManagementType %q must be CONNECT_MANAGED, SAML or EXISTING_DIRECTORY", p, in.IdentityManagementType)
	}
	if in.MaxUsers < 1 || in.MaxUsers > maxAgents {
		bad("%s.maxUsers must be from 1 to %d", p, maxAgents)
	}
	rps := map[string]bool{}
	for j, rp := range in.RoutingProfiles {
		if rp.ID == "" || len(rp.ID) > maxIDLength || rps[rp.ID] {
			bad("%s.routingProfiles[%d].id must be 1-%d characters and unique", p, j, maxIDLength)
		}
		rps[rp.ID] = true
		if n := utf8.RuneCountInString(rp.Name); n < 1 || n > 127 {
			bad("%s.routingProfiles[%d].name must be 1-127 characters", p, j)
		}
		for _, q := range rp.Queues {
			if in.queue(q) == nil {
				bad("%s.routingProfiles[%d].queues: %q is not a queue of the instance", p, j, q)
			}
		}
	}
	sps := map[string]bool{}
	for j, sp := range in.SecurityProfiles {
		if sp.ID == "" || len(sp.ID) > maxIDLength || sps[sp.ID] {
			bad("%s.securityProfiles[%d].id must be 1-%d characters and unique", p, j, maxIDLength)
		}
		sps[sp.ID] = true
		if sp.Name == "" {
			bad("%s.securityProfiles[%d].name is empty", p, j)
		}
	}
	groups := map[string]bool{}
	if h := in.Hierarchy; h != nil {
		if len(h.Levels) < 1 || len(h.Levels) > 5 {
			bad("%s.hierarchy.levels: 1 to 5 levels", p)
		}
		for j, l := range h.Levels {
			if l == "" {
				bad("%s.hierarchy.levels[%d] is empty", p, j)
			}
		}
		for j, g := range h.Groups {
			if g.ID == "" || len(g.ID) > maxIDLength || groups[g.ID] {
				bad("%s.hierarchy.groups[%d].id must be 1-%d characters and unique", p, j, maxIDLength)
			}
			if g.Name == "" {
				bad("%s.hierarchy.groups[%d].name is empty", p, j)
			}
			groups[g.ID] = true
		}
		for j, g := range h.Groups {
			level, ok := h.level(g.ID)
			switch {
			case g.ParentID != "" && !groups[g.ParentID]:
				bad("%s.hierarchy.groups[%d].parentId %q is not a group", p, j, g.ParentID)
			case !ok:
				bad("%s.hierarchy.groups[%d]: its parents form a cycle", p, j)
			case level > len(h.Levels):
				bad("%s.hierarchy.groups[%d] is on level %d, below the %d levels", p, j, level, len(h.Levels))
			}
		}
	}
	names := map[string]bool{}
	ids := map[string]bool{}
	for j, u := range in.Users {
		up := fmt.Sprintf("%s.users[%d]", p, j)
		if u.ID == "" || len(u.ID) > maxIDLength || ids[u.ID] {
			bad("%s.id must be 1-%d characters and unique", up, maxIDLength)
		}
		ids[u.ID] = true
		if u.Username == "" {
			bad("%s.username is empty", up)
		} else if msg := usernameProblem(in.IdentityManagementType, u.Username); msg != "" {
			bad("%s: %s", up, msg)
		}
		if names[strings.ToLower(u.Username)] {
			bad("%s.username %q is duplicated", up, u.Username)
		}
		names[strings.ToLower(u.Username)] = true
		if u.Email != "" {
			if msg := emailProblem("email", u.Email); msg != "" {
				bad("%s: %s", up, msg)
			}
		}
		if !rps[u.RoutingProfileID] {
			bad("%s.routingProfileId %q is not a routing profile of the instance", up, u.RoutingProfileID)
		}
		for _, sp := range u.SecurityProfileIDs {
			if !sps[sp] {
				bad("%s.securityProfileIds: %q is not a security profile of the instance", up, sp)
			}
		}
		if len(u.SecurityProfileIDs) > 10 {
			bad("%s.securityProfileIds: at most 10", up)
		}
		if u.HierarchyGroupID != "" && !groups[u.HierarchyGroupID] {
			bad("%s.hierarchyGroupId %q is not a hierarchy group of the instance", up, u.HierarchyGroupID)
		}
		switch u.PhoneType {
		case PhoneSoft:
		case PhoneDesk:
			if u.DeskPhoneNumber == "" {
				bad("%s: a DESK_PHONE needs a deskPhoneNumber", up)
			}
		default:
			bad("%s.phoneType %q must be SOFT_PHONE or DESK_PHONE", up, u.PhoneType)
		}
		if u.DeskPhoneNumber != "" && !e164.MatchString(u.DeskPhoneNumber) {
			bad("%s.deskPhoneNumber must be E.164", up) // the number itself is never echoed
		}
		if u.AfterContactWorkTimeLimit < 0 || u.AfterContactWorkTimeLimit > maxACWTimeLimit {
			bad("%s.afterContactWorkTimeLimit must be from 0 to %d seconds", up, maxACWTimeLimit)
		}
	}
	if len(in.Users) > in.MaxUsers {
		bad("%s.users: %d users, over maxUsers %d", p, len(in.Users), in.MaxUsers)
	}
	return errs
}

// maxIDLength bounds identifiers the model leaves unbounded (user, profile and group IDs):
// connectsim's own limit, so that every input is length-checked.
const maxIDLength = 256

// level is the level of a group (1 to 5), and false when its parents form a cycle.
func (h *Hierarchy) level(id string) (int, bool) {
	n := 0
	for seen := map[string]bool{}; id != ""; n++ {
		if seen[id] {
			return 0, false
		}
		seen[id] = true
		g := h.group(id)
		if g == nil {
			return n + 1, true
		}
		id = g.ParentID
	}
	return n, true
}

func (h *Hierarchy) group(id string) *HierarchyGroup {
	if h == nil {
		return nil
	}
	for i := range h.Groups {
		if h.Groups[i].ID == id {
			return &h.Groups[i]
		}
	}
	return nil
}

// path is the group and its ancestors, from level one down to the group.
func (h *Hierarchy) path(id string) []*HierarchyGroup {
	var out []*HierarchyGroup
	for g := h.group(id); g != nil && len(out) < 5; g = h.group(g.ParentID) {
		out = append([]*HierarchyGroup{g}, out...)
	}
	return out
}

func (in *Instance) routingProfile(id string) *RoutingProfile {
	for i := range in.RoutingProfiles {
		if in.RoutingProfiles[i].ID == id {
			return &in.RoutingProfiles[i]
		}
	}
	return nil
}

func (in *Instance) securityProfile(id string) *SecurityProfile {
	for i := range in.SecurityProfiles {
		if in.SecurityProfiles[i].ID == id {
			return &in.SecurityProfiles[i]
		}
	}
	return nil
}

// userRecord is a user as the user operations see it. Guarded by Sim.mu.
type userRecord struct {
	id, username       string
	identity           identityInfo
	phone              phoneConfig
	directoryUserID    string
	securityProfileIDs []string
	routingProfileID   string
	hierarchyGroupID   string
	tags               map[string]string
	channels           channelConfigs
	hasPassword        bool
	lastModified       time.Time
}

// acw is the user's after-contact work limit for voice: the VOICE entry of its per-channel
// configuration, else its phone configuration; 0 is no limit.
func (u *userRecord) acw() time.Duration {
	for _, c := range u.channels.ACW {
		if c.Channel != nil && *c.Channel == ChannelVoice && c.AfterContactWorkConfig != nil && c.AfterContactWorkConfig.AfterContactWorkTimeLimit != nil {
			return time.Duration(*c.AfterContactWorkConfig.AfterContactWorkTimeLimit) * time.Second
		}
	}
	if u.phone.AfterContactWorkTimeLimit != nil {
		return time.Duration(*u.phone.AfterContactWorkTimeLimit) * time.Second
	}
	return 0
}

// directory is the live directory of an instance. Guarded by Sim.mu.
type directory struct {
	users map[string]*userRecord // by ID
}

func (d *directory) byUsername(name string) *userRecord {
	for _, u := range d.users {
		if strings.EqualFold(u.username, name) {
			return u
		}
	}
	return nil
}

// resetDirectoryLocked builds the live directories and the agent roster from the world: the
// instance's agents, each a user when its ID is a user's. A user off the roster is offline; it
// joins the roster when SetAgentStatus (or SetAgents) staffs it.
func (s *Sim) resetDirectoryLocked() {
	s.dirs = map[string]*directory{}
	now := s.clock.Now()
	s.directorySince = now
	for i := range s.world.Instances {
		in := &s.world.Instances[i]
		d := &directory{users: map[string]*userRecord{}}
		s.dirs[in.ID] = d
		for _, u := range in.Users {
			d.users[u.ID] = userFromWorld(u, now)
		}
		for _, a := range in.Agents {
			s.agents[in.ID] = append(s.agents[in.ID], s.newAgentLocked(in, a))
		}
	}
}

func userFromWorld(u User, now time.Time) *userRecord {
	r := &userRecord{
		id: u.ID, username: u.Username, securityProfileIDs: slices.Clone(u.SecurityProfileIDs),
		routingProfileID: u.RoutingProfileID, hierarchyGroupID: u.HierarchyGroupID, tags: map[string]string{},
		lastModified: now,
	}
	r.identity = identityInfo{FirstName: optString(u.FirstName), LastName: optString(u.LastName), Email: optString(u.Email)}
	acw := int64(u.AfterContactWorkTimeLimit)
	r.phone = phoneConfig{PhoneType: optString(u.PhoneType), AutoAccept: &u.AutoAccept, AfterContactWorkTimeLimit: &acw, DeskPhoneNumber: optString(u.DeskPhoneNumber)}
	return r
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// newAgentLocked makes the roster entry of an agent: a user's takes its name, the queues of its
// routing profile and its after-contact work; another serves its own queues and counts in the
// instance's first routing profile.
func (s *Sim) newAgentLocked(in *Instance, a Agent) *agentState {
	st := newAgentState(a)
	st.routingProfileID = in.RoutingProfiles[0].ID
	if u := s.dirs[in.ID].users[a.ID]; u != nil {
		s.linkUserLocked(in, st, u)
	}
	st.mark(s.clock.Now())
	return st
}

// linkUserLocked makes an agent act as its user.
func (s *Sim) linkUserLocked(in *Instance, a *agentState, u *userRecord) {
	a.user = true
	a.Name = u.username
	a.routingProfileID = u.routingProfileID
	a.Queues = nil
	if rp := in.routingProfile(u.routingProfileID); rp != nil {
		a.Queues = slices.Clone(rp.Queues)
	}
	a.acw = u.acw()
}

// refreshUserAgentLocked applies a changed user to its agent, and routes queued contacts to it
// if it now serves their queue.
func (s *Sim) refreshUserAgentLocked(in *Instance, u *userRecord) {
	if a := s.agentLocked(in.ID, u.id); a != nil {
		s.linkUserLocked(in, a, u)
		s.routeQueuedLocked(in.ID)
	}
}

// SetAgentStatus sets the status of one agent (a user's ID, or an anonymous agent's): AVAILABLE,
// BREAK (online, not routable) or OFFLINE; a user not yet on the roster joins it. A busy agent
// keeps its contact or after-contact work and is routed no new one while not AVAILABLE.
func (s *Sim) SetAgentStatus(instanceID, agentID, status string) error {
	switch status {
	case AgentAvailable, AgentBreak, AgentOffline:
	default:
		return fmt.Errorf("connectsim: status %q must be AVAILABLE, BREAK or OFFLINE", status)
	}
	if s.world.instance(instanceID) == nil {
		return fmt.Errorf("connectsim: unknown instance %q", instanceID)
	}
	s.mu.Lock()
	defer s.unlockAndFlush()
	a := s.agentLocked(instanceID, agentID)
	if a == nil {
		if s.dirs[instanceID].users[agentID] == nil {
			return errors.New("connectsim: no agent or user " + agentID + " in instance " + instanceID)
		}
		// A user joins the roster.
		a = s.newAgentLocked(s.world.instance(instanceID), Agent{ID: agentID, Status: status})
		s.agents[instanceID] = append(s.agents[instanceID], a)
	}
	a.Status = status
	a.mark(s.clock.Now())
	s.routeQueuedLocked(instanceID)
	return nil
}
