package connectsim

import (
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// User operations: CreateUser, DescribeUser, ListUsers, DeleteUser and the UpdateUser*
// operations, with the API reference's validation. A user is also an agent of the roster
// (agents.go): CreateUser adds it offline, DeleteUser removes it, and a new routing profile or
// phone configuration applies to its next contact.

// identityInfo is UserIdentityInfo. Every member is sensitive but Mobile: none is ever logged
// or echoed in an error.
type identityInfo struct {
	FirstName      *string `json:",omitempty"`
	LastName       *string `json:",omitempty"`
	Email          *string `json:",omitempty"`
	SecondaryEmail *string `json:",omitempty"`
	Mobile         *string `json:",omitempty"`
}

// phoneConfig is UserPhoneConfig.
type phoneConfig struct {
	PhoneType                 *string `json:",omitempty"`
	AutoAccept                *bool   `json:",omitempty"`
	AfterContactWorkTimeLimit *int64  `json:",omitempty"`
	DeskPhoneNumber           *string `json:",omitempty"`
	PersistentConnection      *bool   `json:",omitempty"`
}

func (p *phoneConfig) empty() bool { return p == nil || *p == phoneConfig{} }

type autoAcceptConfig struct {
	Channel                      *string
	AutoAccept                   *bool
	AgentFirstCallbackAutoAccept *bool `json:",omitempty"`
}

type acwConfig struct {
	AfterContactWorkTimeLimit *int64 `json:",omitempty"`
}

type acwConfigPerChannel struct {
	Channel                                  *string
	AfterContactWorkConfig                   *acwConfig
	AgentFirstCallbackAfterContactWorkConfig *acwConfig `json:",omitempty"`
}

type phoneNumberConfig struct {
	Channel     *string
	PhoneType   *string
	PhoneNumber *string `json:",omitempty"`
}

type persistentConnectionConfig struct {
	Channel              *string
	PersistentConnection *bool
}

type voiceEnhancementConfig struct {
	Channel              *string
	VoiceEnhancementMode *string
}

// channelConfigs are the per-channel settings that CreateUser accepts besides PhoneConfig.
type channelConfigs struct {
	AutoAccept       []autoAcceptConfig           `json:"AutoAcceptConfigs,omitempty"`
	ACW              []acwConfigPerChannel        `json:"AfterContactWorkConfigs,omitempty"`
	PhoneNumber      []phoneNumberConfig          `json:"PhoneNumberConfigs,omitempty"`
	Persistent       []persistentConnectionConfig `json:"PersistentConnectionConfigs,omitempty"`
	VoiceEnhancement []voiceEnhancementConfig     `json:"VoiceEnhancementConfigs,omitempty"`
}

// channelList is the channels one per-channel list names, each once at most.
type channelList struct {
	name     string
	channels []*string
}

func (cc channelConfigs) channelLists() []channelList {
	var out [5]channelList
	out[0].name, out[1].name, out[2].name, out[3].name, out[4].name = "AutoAcceptConfigs", "AfterContactWorkConfigs", "PhoneNumberConfigs", "PersistentConnectionConfigs", "VoiceEnhancementConfigs"
	for _, c := range cc.AutoAccept {
		out[0].channels = append(out[0].channels, c.Channel)
	}
	for _, c := range cc.ACW {
		out[1].channels = append(out[1].channels, c.Channel)
	}
	for _, c := range cc.PhoneNumber {
		out[2].channels = append(out[2].channels, c.Channel)
	}
	for _, c := range cc.Persistent {
		out[3].channels = append(out[3].channels, c.Channel)
	}
	for _, c := range cc.VoiceEnhancement {
		out[4].channels = append(out[4].channels, c.Channel)
	}
	return out[:]
}

type createUserInput struct {
	Username           *string
	Password           *string
	IdentityInfo       *identityInfo
	PhoneConfig        *phoneConfig
	DirectoryUserId    *string
	SecurityProfileIds []string
	RoutingProfileId   *string
	HierarchyGroupId   *string
	Tags               map[string]string
	channelConfigs
}

// failHidden records a failed constraint of a sensitive member without its value.
func (c *check) failHidden(member, constraint string) {
	c.errs = append(c.errs, "Value at '"+lowerFirst(member)+"' failed to satisfy constraint: "+constraint)
}

// hiddenLength is length for a sensitive member: the value is never echoed.
func (c *check) hiddenLength(member string, p *string, min, max int) {
	if p == nil {
		return
	}
	switch n := utf8.RuneCountInString(*p); {
	case n < min:
		c.failHidden(member, "Member must have length greater than or equal to "+strconv.Itoa(min))
	case n > max:
		c.failHidden(member, "Member must have length less than or equal to "+strconv.Itoa(max))
	}
}

// idLength bounds an identifier: the model's bounds where it has them, else connectsim's
// maxIDLength.
func (c *check) idLength(member string, p *string) { c.length(member, p, 1, maxIDLength) }

// passwordPattern is the model's Password pattern, /^(?=.*[a-z])(?=.*[A-Z])(?=.*\d)[a-zA-Z\d\S]{8,64}$/,
// which Go's regexp cannot run (lookaheads): 8-64 characters without white space, with a
// lower-case letter, an upper-case letter and a digit.
const passwordPattern = `^(?=.*[a-z])(?=.*[A-Z])(?=.*\d)[a-zA-Z\d\S]{8,64}$`

func passwordOK(p string) bool {
	n := utf8.RuneCountInString(p)
	if n < 8 || n > 64 {
		return false
	}
	var lower, upper, digit bool
	for _, r := range p {
		switch {
		case unicode.IsSpace(r):
			return false
		case r >= 'a' && r <= 'z':
			lower = true
		case r >= 'A' && r <= 'Z':
			upper = true
		case r >= '0' && r <= '9':
			digit = true
		}
	}
	return lower && upper && digit
}

// tagKey is TagKey's pattern, ^(?!aws:)[\p{L}\p{Z}\p{N}_.:/=+\-@]*$, without the lookahead.
var tagKey = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)

func checkTags(ck *check, tags map[string]string) {
	if tags == nil {
		return
	}
	if n := len(tags); n < 1 || n > 50 {
		ck.fail("tags", "", "Member must have length between 1 and 50")
	}
	for k, v := range tags {
		ck.length("tags.key", &k, 1, 128)
		if !tagKey.MatchString(k) || strings.HasPrefix(k, "aws:") {
			ck.fail("tags.key", quoteValue(k), `Member must satisfy regular expression pattern: ^(?!aws:)[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)
		}
		ck.length("tags.value", &v, 0, 256)
	}
}

var allPhoneTypes = []string{PhoneSoft, PhoneDesk}

// checkIdentityShapes applies the model's constraints to UserIdentityInfo.
func checkIdentityShapes(ck *check, in *identityInfo) {
	if in == nil {
		return
	}
	ck.hiddenLength("identityInfo.firstName", in.FirstName, 0, 255)
	ck.hiddenLength("identityInfo.lastName", in.LastName, 0, 300)
	ck.hiddenLength("identityInfo.email", in.Email, 0, 265)
	ck.hiddenLength("identityInfo.secondaryEmail", in.SecondaryEmail, 0, 265)
	ck.hiddenLength("identityInfo.mobile", in.Mobile, 0, 16)
}

// checkPhoneShapes applies the model's constraints to UserPhoneConfig.
func checkPhoneShapes(ck *check, p *phoneConfig) {
	if p == nil {
		return
	}
	ck.enum("phoneConfig.phoneType", p.PhoneType, allPhoneTypes...)
	ck.intRange("phoneConfig.afterContactWorkTimeLimit", p.AfterContactWorkTimeLimit, 0, 1<<53)
	ck.hiddenLength("phoneConfig.deskPhoneNumber", p.DeskPhoneNumber, 0, 16)
}

// checkChannelShapes applies the model's constraints (required members, enums) to the
// per-channel configurations.
func checkChannelShapes(ck *check, cc channelConfigs) {
	for _, l := range cc.channelLists() {
		for _, ch := range l.channels {
			if ck.required(l.name+".member.channel", ch != nil) {
				ck.enum(l.name+".member.channel", ch, allChannels...)
			}
		}
	}
	for _, c := range cc.AutoAccept {
		ck.required("autoAcceptConfigs.member.autoAccept", c.AutoAccept != nil)
	}
	for _, c := range cc.ACW {
		ck.required("afterContactWorkConfigs.member.afterContactWorkConfig", c.AfterContactWorkConfig != nil)
		for _, a := range []*acwConfig{c.AfterContactWorkConfig, c.AgentFirstCallbackAfterContactWorkConfig} {
			if a != nil {
				ck.intRange("afterContactWorkConfigs.member.afterContactWorkConfig.afterContactWorkTimeLimit", a.AfterContactWorkTimeLimit, 0, 1<<53)
			}
		}
	}
	for _, c := range cc.PhoneNumber {
		if ck.required("phoneNumberConfigs.member.phoneType", c.PhoneType != nil) {
			ck.enum("phoneNumberConfigs.member.phoneType", c.PhoneType, allPhoneTypes...)
		}
		ck.hiddenLength("phoneNumberConfigs.member.phoneNumber", c.PhoneNumber, 0, 16)
	}
	for _, c := range cc.Persistent {
		ck.required("persistentConnectionConfigs.member.persistentConnection", c.PersistentConnection != nil)
	}
	for _, c := range cc.VoiceEnhancement {
		if ck.required("voiceEnhancementConfigs.member.voiceEnhancementMode", c.VoiceEnhancementMode != nil) {
			ck.enum("voiceEnhancementConfigs.member.voiceEnhancementMode", c.VoiceEnhancementMode, "VOICE_ISOLATION", "NOISE_SUPPRESSION", "NONE")
		}
	}
}

// identityProblem applies the reference's identity rules for the instance's identity
// management type (InvalidParameterException): first and last name are required with
// Connect-managed or SAML identities; an email address is refused with SAML ("If you are using
// SAML for identity management and include this parameter, an error is returned"); addresses
// and the mobile number must be well formed. creating: the names must be present, not only
// non-empty.
func identityProblem(identity string, in *identityInfo, creating bool) string {
	if in == nil {
		in = &identityInfo{}
	}
	if identity == IdentityConnectManaged || identity == IdentitySAML {
		for _, f := range []struct {
			name string
			v    *string
		}{{"FirstName", in.FirstName}, {"LastName", in.LastName}} {
			if (f.v == nil && creating) || (f.v != nil && strings.TrimSpace(*f.v) == "") {
				return "IdentityInfo." + f.name + " is required for an instance with " + identity + " identity management"
			}
		}
	}
	if identity == IdentitySAML && in.Email != nil {
		return "IdentityInfo.Email cannot be given for an instance with SAML identity management"
	}
	for _, f := range []struct {
		name string
		v    *string
	}{{"IdentityInfo.Email", in.Email}, {"IdentityInfo.SecondaryEmail", in.SecondaryEmail}} {
		if f.v != nil && *f.v != "" {
			if msg := emailProblem(f.name, *f.v); msg != "" {
				return msg
			}
		}
	}
	if in.Mobile != nil && !e164.MatchString(*in.Mobile) {
		return "IdentityInfo.Mobile must be in E.164 format"
	}
	return ""
}

// phoneProblem applies the service's rules to a phone configuration and the per-channel
// configurations (InvalidParameterException): a DESK_PHONE needs a desk number, numbers are
// E.164, the after-contact work limit is at most 2,000,000 s, a channel appears once per list,
// and PhoneConfig's fields "cannot be set simultaneously with their corresponding
// channel-specific configuration parameters".
func phoneProblem(p *phoneConfig, cc channelConfigs) string {
	if p != nil {
		if p.DeskPhoneNumber != nil && *p.DeskPhoneNumber != "" && !e164.MatchString(*p.DeskPhoneNumber) {
			return "PhoneConfig.DeskPhoneNumber must be in E.164 format"
		}
		if p.PhoneType != nil && *p.PhoneType == PhoneDesk && (p.DeskPhoneNumber == nil || *p.DeskPhoneNumber == "") {
			return "PhoneConfig.DeskPhoneNumber is required for a DESK_PHONE"
		}
		if p.AfterContactWorkTimeLimit != nil && *p.AfterContactWorkTimeLimit > maxACWTimeLimit {
			return "PhoneConfig.AfterContactWorkTimeLimit must be at most 2000000 seconds"
		}
		for _, conflict := range []struct {
			set  bool
			with int
			name string
		}{
			{p.AutoAccept != nil, len(cc.AutoAccept), "PhoneConfig.AutoAccept conflicts with AutoAcceptConfigs"},
			{p.AfterContactWorkTimeLimit != nil, len(cc.ACW), "PhoneConfig.AfterContactWorkTimeLimit conflicts with AfterContactWorkConfigs"},
			{p.PhoneType != nil || p.DeskPhoneNumber != nil, len(cc.PhoneNumber), "PhoneConfig.PhoneType and PhoneConfig.DeskPhoneNumber conflict with PhoneNumberConfigs"},
			{p.PersistentConnection != nil, len(cc.Persistent), "PhoneConfig.PersistentConnection conflicts with PersistentConnectionConfigs"},
		} {
			if conflict.set && conflict.with > 0 {
				return conflict.name
			}
		}
	}
	for _, l := range cc.channelLists() {
		seen := map[string]bool{}
		for _, ch := range l.channels {
			if seen[*ch] {
				return l.name + " names channel " + *ch + " more than once"
			}
			seen[*ch] = true
		}
	}
	for _, c := range cc.ACW {
		for _, a := range []*acwConfig{c.AfterContactWorkConfig, c.AgentFirstCallbackAfterContactWorkConfig} {
			if a != nil && a.AfterContactWorkTimeLimit != nil && *a.AfterContactWorkTimeLimit > maxACWTimeLimit {
				return "AfterContactWorkTimeLimit must be at most 2000000 seconds"
			}
		}
	}
	for _, c := range cc.PhoneNumber {
		if c.PhoneNumber != nil && *c.PhoneNumber != "" && !e164.MatchString(*c.PhoneNumber) {
			return "PhoneNumberConfigs.PhoneNumber must be in E.164 format"
		}
		if *c.PhoneType == PhoneDesk && (c.PhoneNumber == nil || *c.PhoneNumber == "") {
			return "PhoneNumberConfigs: a DESK_PHONE needs a PhoneNumber"
		}
	}
	return ""
}

// profilesLocked checks that a user's routing profile, security profiles and hierarchy group
// exist (ResourceNotFoundException).
func checkReferences(in *Instance, routingProfileID *string, securityProfileIDs []string, groupID *string) *apiError {
	if routingProfileID != nil && in.routingProfile(*routingProfileID) == nil {
		return newErr(errResourceNotFound, "Routing profile %s not found in instance %s", *routingProfileID, in.ID)
	}
	for _, id := range securityProfileIDs {
		if in.securityProfile(id) == nil {
			return newErr(errResourceNotFound, "Security profile %s not found in instance %s", id, in.ID)
		}
	}
	if groupID != nil && *groupID != "" && in.Hierarchy.group(*groupID) == nil {
		return newErr(errResourceNotFound, "Hierarchy group %s not found in instance %s", *groupID, in.ID)
	}
	return nil
}

func (s *Sim) userARN(instanceID, userID string) string {
	return s.InstanceARN(instanceID) + "/agent/" + userID
}

func (s *Sim) createUser(c *call) (any, *apiError) {
	instID := c.params["InstanceId"]
	var in createUserInput
	if e := c.decode(&in); e != nil {
		return nil, e
	}
	var ck check
	ck.length("InstanceId", &instID, 1, 100)
	ck.required("Username", in.Username != nil)
	ck.length("Username", in.Username, 1, 100)
	if in.Password != nil && !passwordOK(*in.Password) {
		ck.failHidden("password", "Member must satisfy regular expression pattern: "+passwordPattern)
	}
	checkIdentityShapes(&ck, in.IdentityInfo)
	checkPhoneShapes(&ck, in.PhoneConfig)
	checkChannelShapes(&ck, in.channelConfigs)
	ck.idLength("DirectoryUserId", in.DirectoryUserId)
	if ck.required("SecurityProfileIds", in.SecurityProfileIds != nil) {
		if n := len(in.SecurityProfileIds); n < 1 || n > 10 {
			ck.fail("securityProfileIds", "", "Member must have length between 1 and 10")
		}
	}
	for _, id := range in.SecurityProfileIds {
		ck.idLength("SecurityProfileIds.member", &id)
	}
	ck.required("RoutingProfileId", in.RoutingProfileId != nil)
	ck.idLength("RoutingProfileId", in.RoutingProfileId)
	ck.idLength("HierarchyGroupId", in.HierarchyGroupId)
	checkTags(&ck, in.Tags)
	if e := ck.err(); e != nil {
		return nil, e
	}
	inst, e := s.instanceOrErr(instID)
	if e != nil {
		return nil, e
	}
	identity := inst.IdentityManagementType
	switch {
	case identity == IdentityConnectManaged && in.Password == nil:
		return nil, newErr(errInvalidParameter, "A Password is required for an instance with CONNECT_MANAGED identity management")
	case identity != IdentityConnectManaged && in.Password != nil:
		return nil, newErr(errInvalidParameter, "A Password cannot be given for an instance with %s identity management", identity)
	case identity == IdentitySAML && in.DirectoryUserId != nil:
		return nil, newErr(errInvalidParameter, "DirectoryUserId cannot be given for an instance with SAML identity management")
	}
	if msg := usernameProblem(identity, *in.Username); msg != "" {
		return nil, newErr(errInvalidParameter, "%s", msg)
	}
	if msg := identityProblem(identity, in.IdentityInfo, true); msg != "" {
		return nil, newErr(errInvalidParameter, "%s", msg)
	}
	if msg := phoneProblem(in.PhoneConfig, in.channelConfigs); msg != "" {
		return nil, newErr(errInvalidParameter, "%s", msg)
	}
	if e := checkReferences(inst, in.RoutingProfileId, in.SecurityProfileIds, in.HierarchyGroupId); e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.unlockAndFlush()
	d := s.dirs[inst.ID]
	if d.byUsername(*in.Username) != nil {
		return nil, newErr(errDuplicateResource, "A user with the username %s already exists in instance %s", *in.Username, inst.ID)
	}
	if len(d.users) >= inst.MaxUsers {
		return nil, newErr(errLimitExceeded, "The Users per instance quota of %d for instance %s is reached", inst.MaxUsers, inst.ID)
	}
	u := &userRecord{
		id: newUUID(), username: *in.Username, securityProfileIDs: slices.Clone(in.SecurityProfileIds),
		routingProfileID: *in.RoutingProfileId, tags: maps.Clone(in.Tags), channels: in.channelConfigs,
		hasPassword: in.Password != nil, lastModified: s.clock.Now(),
	}
	if u.tags == nil {
		u.tags = map[string]string{}
	}
	if in.IdentityInfo != nil {
		u.identity = *in.IdentityInfo
	}
	if in.PhoneConfig != nil {
		u.phone = *in.PhoneConfig
	}
	if in.DirectoryUserId != nil {
		u.directoryUserID = *in.DirectoryUserId
	}
	if in.HierarchyGroupId != nil {
		u.hierarchyGroupID = *in.HierarchyGroupId
	}
	// A new user is not logged in: off the roster (offline) until staffed.
	d.users[u.id] = u
	s.log.Info("user created", "instance_id", inst.ID, "user_id", u.id)
	return map[string]string{"UserId": u.id, "UserArn": s.userARN(inst.ID, u.id)}, nil
}

// withUser validates the {InstanceId}/{UserId} path, finds the user and runs f under s.mu.
func (s *Sim) withUser(c *call, f func(inst *Instance, u *userRecord) (any, *apiError)) (any, *apiError) {
	instID, userID := c.params["InstanceId"], c.params["UserId"]
	var ck check
	ck.length("InstanceId", &instID, 1, 100)
	ck.idLength("UserId", &userID)
	if e := ck.err(); e != nil {
		return nil, e
	}
	inst, e := s.instanceOrErr(instID)
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.unlockAndFlush()
	u := s.dirs[inst.ID].users[userID]
	if u == nil {
		return nil, newErr(errResourceNotFound, "User %s not found in instance %s", userID, inst.ID)
	}
	return f(inst, u)
}

// updateUser decodes an UpdateUser* request body into in, validates it with shapes (model
// constraints) and rule (service rules), and applies it to the user with apply.
func updateUser[T any](s *Sim, c *call, in *T, shapes func(*check), rule func(*Instance, *userRecord) *apiError, apply func(*Instance, *userRecord)) (any, *apiError) {
	if e := c.decode(in); e != nil {
		return nil, e
	}
	var ck check
	shapes(&ck)
	if e := ck.err(); e != nil {
		return nil, e
	}
	return s.withUser(c, func(inst *Instance, u *userRecord) (any, *apiError) {
		if e := rule(inst, u); e != nil {
			return nil, e
		}
		apply(inst, u)
		u.lastModified = s.clock.Now()
		s.refreshUserAgentLocked(inst, u)
		s.log.Info("user updated", "operation", c.op, "instance_id", inst.ID, "user_id", u.id)
		return struct{}{}, nil
	})
}

type describedUser struct {
	Id                 string            `json:"Id"`
	Arn                string            `json:"Arn"`
	Username           string            `json:"Username"`
	IdentityInfo       identityInfo      `json:"IdentityInfo"`
	PhoneConfig        describedPhone    `json:"PhoneConfig"`
	DirectoryUserId    string            `json:"DirectoryUserId,omitempty"`
	SecurityProfileIds []string          `json:"SecurityProfileIds"`
	RoutingProfileId   string            `json:"RoutingProfileId"`
	HierarchyGroupId   string            `json:"HierarchyGroupId,omitempty"`
	Tags               map[string]string `json:"Tags"`
	channelConfigs
	LastModifiedTime   epoch  `json:"LastModifiedTime"`
	LastModifiedRegion string `json:"LastModifiedRegion"`
}

// describedPhone is the phone configuration DescribeUser answers: every field, with the
// defaults of an unset one (as the reference's example shows "AutoAccept": false,
// "AfterContactWorkTimeLimit": 0, "DeskPhoneNumber": "").
type describedPhone struct {
	PhoneType                 string `json:"PhoneType"`
	AutoAccept                bool   `json:"AutoAccept"`
	AfterContactWorkTimeLimit int64  `json:"AfterContactWorkTimeLimit"`
	DeskPhoneNumber           string `json:"DeskPhoneNumber"`
	PersistentConnection      *bool  `json:"PersistentConnection,omitempty"`
}

func (s *Sim) describedUserLocked(instanceID string, u *userRecord) describedUser {
	p := describedPhone{PhoneType: PhoneSoft, PersistentConnection: u.phone.PersistentConnection}
	if u.phone.PhoneType != nil {
		p.PhoneType = *u.phone.PhoneType
	}
	if u.phone.AutoAccept != nil {
		p.AutoAccept = *u.phone.AutoAccept
	}
	if u.phone.DeskPhoneNumber != nil {
		p.DeskPhoneNumber = *u.phone.DeskPhoneNumber
	}
	p.AfterContactWorkTimeLimit = int64(u.acw() / time.Second)
	return describedUser{
		Id: u.id, Arn: s.userARN(instanceID, u.id), Username: u.username, IdentityInfo: u.identity, PhoneConfig: p,
		DirectoryUserId: u.directoryUserID, SecurityProfileIds: slices.Clone(u.securityProfileIDs),
		RoutingProfileId: u.routingProfileID, HierarchyGroupId: u.hierarchyGroupID, Tags: maps.Clone(u.tags),
		channelConfigs: u.channels, LastModifiedTime: epoch(u.lastModified), LastModifiedRegion: s.world.Region,
	}
}

func (s *Sim) describeUser(c *call) (any, *apiError) {
	return s.withUser(c, func(inst *Instance, u *userRecord) (any, *apiError) {
		return map[string]any{"User": s.describedUserLocked(inst.ID, u)}, nil
	})
}

type userSummary struct {
	Id                 string `json:"Id"`
	Arn                string `json:"Arn"`
	Username           string `json:"Username"`
	LastModifiedTime   epoch  `json:"LastModifiedTime"`
	LastModifiedRegion string `json:"LastModifiedRegion"`
}

// listUsers answers the users by username (case-insensitive), 100 a page by default.
func (s *Sim) listUsers(c *call) (any, *apiError) {
	return listOf(s, c, "UserSummaryList", func(inst *Instance) []listed {
		var out []listed
		for _, u := range s.dirs[inst.ID].users {
			out = append(out, listed{key: strings.ToLower(u.username) + "\x00" + u.id, item: userSummary{
				Id: u.id, Arn: s.userARN(inst.ID, u.id), Username: u.username,
				LastModifiedTime: epoch(u.lastModified), LastModifiedRegion: s.world.Region,
			}})
		}
		return out
	})
}

func (s *Sim) deleteUser(c *call) (any, *apiError) {
	return s.withUser(c, func(inst *Instance, u *userRecord) (any, *apiError) {
		delete(s.dirs[inst.ID].users, u.id)
		// The agent leaves the roster; a contact it is on goes on to its end, without
		// after-contact work.
		s.agents[inst.ID] = slices.DeleteFunc(s.agents[inst.ID], func(a *agentState) bool { return a.ID == u.id })
		s.log.Info("user deleted", "instance_id", inst.ID, "user_id", u.id)
		return struct{}{}, nil
	})
}

func (s *Sim) updateUserIdentityInfo(c *call) (any, *apiError) {
	var in struct{ IdentityInfo *identityInfo }
	return updateUser(s, c, &in, func(ck *check) {
		ck.required("IdentityInfo", in.IdentityInfo != nil)
		checkIdentityShapes(ck, in.IdentityInfo)
	}, func(inst *Instance, _ *userRecord) *apiError {
		if msg := identityProblem(inst.IdentityManagementType, in.IdentityInfo, false); msg != "" {
			return newErr(errInvalidParameter, "%s", msg)
		}
		return nil
	}, func(_ *Instance, u *userRecord) {
		// Members left out keep their value.
		n := in.IdentityInfo
		for _, f := range []struct{ to, from **string }{{&u.identity.FirstName, &n.FirstName}, {&u.identity.LastName, &n.LastName},
			{&u.identity.Email, &n.Email}, {&u.identity.SecondaryEmail, &n.SecondaryEmail}, {&u.identity.Mobile, &n.Mobile}} {
			if *f.from != nil {
				*f.to = *f.from
			}
		}
	})
}

// updateUserPhoneConfig replaces the user's phone configuration: a member left out takes its
// zero value (false, 0, no desk number; the SDKs leave false and 0 out of the request), except
// PhoneType, which keeps its value. As "the UpdateUserPhoneConfig API will always set the same
// ACW timeouts to all channels the user handles", it drops the per-channel settings it
// overrides.
func (s *Sim) updateUserPhoneConfig(c *call) (any, *apiError) {
	var in struct{ PhoneConfig *phoneConfig }
	var next phoneConfig
	return updateUser(s, c, &in, func(ck *check) {
		ck.required("PhoneConfig", in.PhoneConfig != nil)
		checkPhoneShapes(ck, in.PhoneConfig)
	}, func(_ *Instance, u *userRecord) *apiError {
		next = *in.PhoneConfig
		if next.PhoneType == nil {
			next.PhoneType = u.phone.PhoneType
		}
		if msg := phoneProblem(&next, channelConfigs{}); msg != "" {
			return newErr(errInvalidParameter, "%s", msg)
		}
		return nil
	}, func(_ *Instance, u *userRecord) {
		u.phone = next
		u.channels = channelConfigs{VoiceEnhancement: u.channels.VoiceEnhancement}
	})
}

func (s *Sim) updateUserRoutingProfile(c *call) (any, *apiError) {
	var in struct{ RoutingProfileId *string }
	return updateUser(s, c, &in, func(ck *check) {
		ck.required("RoutingProfileId", in.RoutingProfileId != nil)
		ck.idLength("RoutingProfileId", in.RoutingProfileId)
	}, func(inst *Instance, _ *userRecord) *apiError {
		return checkReferences(inst, in.RoutingProfileId, nil, nil)
	}, func(_ *Instance, u *userRecord) { u.routingProfileID = *in.RoutingProfileId })
}

func (s *Sim) updateUserSecurityProfiles(c *call) (any, *apiError) {
	var in struct{ SecurityProfileIds []string }
	return updateUser(s, c, &in, func(ck *check) {
		if ck.required("SecurityProfileIds", in.SecurityProfileIds != nil) {
			if n := len(in.SecurityProfileIds); n < 1 || n > 10 {
				ck.fail("securityProfileIds", "", "Member must have length between 1 and 10")
			}
		}
		for _, id := range in.SecurityProfileIds {
			ck.idLength("SecurityProfileIds.member", &id)
		}
	}, func(inst *Instance, _ *userRecord) *apiError {
		return checkReferences(inst, nil, in.SecurityProfileIds, nil)
	}, func(_ *Instance, u *userRecord) { u.securityProfileIDs = slices.Clone(in.SecurityProfileIds) })
}

// updateUserHierarchy assigns a group, or with no HierarchyGroupId takes the user out of the
// hierarchy.
func (s *Sim) updateUserHierarchy(c *call) (any, *apiError) {
	var in struct{ HierarchyGroupId *string }
	return updateUser(s, c, &in, func(ck *check) {
		ck.idLength("HierarchyGroupId", in.HierarchyGroupId)
	}, func(inst *Instance, _ *userRecord) *apiError {
		return checkReferences(inst, nil, nil, in.HierarchyGroupId)
	}, func(_ *Instance, u *userRecord) {
		u.hierarchyGroupID = ""
		if in.HierarchyGroupId != nil {
			u.hierarchyGroupID = *in.HierarchyGroupId
		}
	})
}
