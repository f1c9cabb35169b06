package connectsim

import "strconv"

// The agent hierarchy operations (DescribeUserHierarchyStructure, DescribeUserHierarchyGroup,
// ListUserHierarchyGroups) and the profile lists (ListRoutingProfiles, ListSecurityProfiles),
// from the world's directory. Levels are numbered "1" to "5": a group's LevelId and the last
// part of a level's ARN (.../agent-group-level/1), as the reference's examples show them.

var levelNames = []string{"LevelOne", "LevelTwo", "LevelThree", "LevelFour", "LevelFive"}

type hierarchyItem struct {
	Id                 string `json:"Id"`
	Arn                string `json:"Arn"`
	Name               string `json:"Name"`
	LastModifiedTime   epoch  `json:"LastModifiedTime"`
	LastModifiedRegion string `json:"LastModifiedRegion"`
}

func (s *Sim) hierarchyGroupItem(instanceID string, g *HierarchyGroup) hierarchyItem {
	return hierarchyItem{Id: g.ID, Arn: s.InstanceARN(instanceID) + "/agent-group/" + g.ID, Name: g.Name,
		LastModifiedTime: epoch(s.directorySince), LastModifiedRegion: s.world.Region}
}

// withInstance validates the {InstanceId} path parameter and finds the instance.
func (s *Sim) withInstance(c *call, f func(inst *Instance) (any, *apiError)) (any, *apiError) {
	instID := c.params["InstanceId"]
	var ck check
	ck.length("InstanceId", &instID, 1, 100)
	if e := ck.err(); e != nil {
		return nil, e
	}
	inst, e := s.instanceOrErr(instID)
	if e != nil {
		return nil, e
	}
	return f(inst)
}

func (s *Sim) describeUserHierarchyStructure(c *call) (any, *apiError) {
	return s.withInstance(c, func(inst *Instance) (any, *apiError) {
		levels := map[string]hierarchyItem{}
		if h := inst.Hierarchy; h != nil {
			for i, name := range h.Levels {
				id := strconv.Itoa(i + 1)
				levels[levelNames[i]] = hierarchyItem{Id: id, Arn: s.InstanceARN(inst.ID) + "/agent-group-level/" + id, Name: name,
					LastModifiedTime: epoch(s.directorySince), LastModifiedRegion: s.world.Region}
			}
		}
		return map[string]any{"HierarchyStructure": levels}, nil
	})
}

func (s *Sim) describeUserHierarchyGroup(c *call) (any, *apiError) {
	id := c.params["HierarchyGroupId"]
	var ck check
	ck.idLength("HierarchyGroupId", &id)
	if e := ck.err(); e != nil {
		return nil, e
	}
	return s.withInstance(c, func(inst *Instance) (any, *apiError) {
		g := inst.Hierarchy.group(id)
		if g == nil {
			return nil, newErr(errResourceNotFound, "Hierarchy group %s not found in instance %s", id, inst.ID)
		}
		path := inst.Hierarchy.path(id)
		hp := map[string]hierarchyItem{}
		for i, p := range path {
			hp[levelNames[i]] = s.hierarchyGroupItem(inst.ID, p)
		}
		item := s.hierarchyGroupItem(inst.ID, g)
		return map[string]any{"HierarchyGroup": map[string]any{
			"Id": item.Id, "Arn": item.Arn, "Name": item.Name, "LevelId": strconv.Itoa(len(path)),
			"HierarchyPath": hp, "Tags": map[string]string{},
			"LastModifiedTime": item.LastModifiedTime, "LastModifiedRegion": item.LastModifiedRegion,
		}}, nil
	})
}

func (s *Sim) listUserHierarchyGroups(c *call) (any, *apiError) {
	return listOf(s, c, "UserHierarchyGroupSummaryList", func(inst *Instance) []listed {
		var out []listed
		if h := inst.Hierarchy; h != nil {
			for i := range h.Groups {
				out = append(out, listed{key: h.Groups[i].ID, item: s.hierarchyGroupItem(inst.ID, &h.Groups[i])})
			}
		}
		return out
	})
}

func (s *Sim) listRoutingProfiles(c *call) (any, *apiError) {
	return listOf(s, c, "RoutingProfileSummaryList", func(inst *Instance) []listed {
		var out []listed
		for _, rp := range inst.RoutingProfiles {
			out = append(out, listed{key: rp.ID, item: hierarchyItem{Id: rp.ID, Arn: s.routingProfileARN(inst.ID, rp.ID), Name: rp.Name,
				LastModifiedTime: epoch(s.directorySince), LastModifiedRegion: s.world.Region}})
		}
		return out
	})
}

func (s *Sim) listSecurityProfiles(c *call) (any, *apiError) {
	return listOf(s, c, "SecurityProfileSummaryList", func(inst *Instance) []listed {
		var out []listed
		for _, sp := range inst.SecurityProfiles {
			out = append(out, listed{key: sp.ID, item: hierarchyItem{Id: sp.ID, Arn: s.InstanceARN(inst.ID) + "/security-profile/" + sp.ID, Name: sp.Name,
				LastModifiedTime: epoch(s.directorySince), LastModifiedRegion: s.world.Region}})
		}
		return out
	})
}

func (s *Sim) routingProfileARN(instanceID, id string) string {
	return s.InstanceARN(instanceID) + "/routing-profile/" + id
}
