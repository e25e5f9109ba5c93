// Package demo builds a synthetic district: org units with resident
// populations and staff of every role, so that a new installation has
// something real to show.
package demo

import (
	"context"
	"fmt"

	"kith/internal/auth"
	"kith/internal/care"
)

// Password is every demo account's password. It is printed when the demo is
// built; a demo database is for evaluation only.
const Password = "kith-demo-2026"

// Account is one demo staff account.
type Account struct {
	Username string
	Role     auth.Role
	OrgUnit  string
}

// District is the demo district's code.
const District = "D01"

// Hospital is the code of the demo district's mental health hospital, an
// institution: its psychiatrist (account "hospital") sees patients referred to it.
const Hospital = "H01"

// streets and communities of the demo district, with resident populations.
var streets = []struct {
	code, name  string
	communities []community
}{
	{"S01", "Qinghe Street 清河街道", []community{{"C0101", "Anning Community 安宁社区", 24500}, {"C0102", "Heping Community 和平社区", 31200}, {"C0103", "Xingfu Community 幸福社区", 18900}}},
	{"S02", "Dongshan Township 东山镇", []community{{"C0201", "Dongshan Village 东山村", 9800}, {"C0202", "Lishu Village 梨树村", 7600}, {"C0203", "Nanwan Village 南湾村", 11300}}},
	{"S03", "Xiyuan Street 西苑街道", []community{{"C0301", "Xiyuan Community 西苑社区", 27400}, {"C0302", "Chunhui Community 春晖社区", 22100}, {"C0303", "Jinqiao Community 金桥社区", 19800}}},
}

type community struct {
	code, name string
	population int64
}

// Seed fills an empty database with the demo district and its staff and
// returns the accounts it made. It acts as a freshly created administrator,
// so every step goes through the service and its audit log.
func Seed(ctx context.Context, svc *care.Service) ([]Account, error) {
	if _, err := svc.CreateAdmin(ctx, "admin", "System Administrator 系统管理员", Password); err != nil {
		return nil, fmt.Errorf("demo: admin: %w", err)
	}
	ctx = care.WithActor(ctx, &care.Actor{Username: "admin", Role: auth.Admin})
	var total int64
	for _, s := range streets {
		for _, c := range s.communities {
			total += c.population
		}
	}
	units := []care.UnitInput{{Code: District, Name: "Riverside District 河畔区", Level: string(care.District), Population: total}}
	for _, s := range streets {
		var pop int64
		for _, c := range s.communities {
			pop += c.population
		}
		units = append(units, care.UnitInput{Code: s.code, Name: s.name, Level: string(care.Street), ParentCode: District, Population: pop})
		for _, c := range s.communities {
			units = append(units, care.UnitInput{Code: c.code, Name: c.name, Level: string(care.Community), ParentCode: s.code, Population: c.population})
		}
	}
	// The district's mental health hospital: staff, no residents; it sees a
	// patient through a referral.
	units = append(units, care.UnitInput{Code: Hospital, Name: "Riverside Mental Health Centre 河畔区精神卫生中心",
		Level: string(care.Institution), ParentCode: District})
	for _, u := range units {
		if _, err := svc.CreateUnit(ctx, u); err != nil {
			return nil, fmt.Errorf("demo: unit %s: %w", u.Code, err)
		}
	}
	staff := []care.UserInput{
		{Username: "district", FullName: "Zhou Min 周敏", Role: string(auth.DistrictAdmin), OrgUnit: District},
		{Username: "psychiatrist", FullName: "Dr Chen Hua 陈华", Role: string(auth.Psychiatrist), OrgUnit: District},
		{Username: "therapist", FullName: "Lin Xiao 林晓", Role: string(auth.Psychotherapist), OrgUnit: District},
		{Username: "social", FullName: "Wang Fang 王芳", Role: string(auth.SocialWorker), OrgUnit: "S01"},
		{Username: "nurse", FullName: "Li Na 李娜", Role: string(auth.Nurse), OrgUnit: "S01"},
		{Username: "manager", FullName: "Zhang Wei 张伟", Role: string(auth.CommunityManager), OrgUnit: "C0101"},
		{Username: "manager2", FullName: "Liu Yang 刘洋", Role: string(auth.CommunityManager), OrgUnit: "C0201"},
		{Username: "caregroup", FullName: "Zhao Lei 赵磊", Role: string(auth.CareGroup), OrgUnit: "C0101"},
		{Username: "hospital", FullName: "Dr Sun Li 孙立", Role: string(auth.Psychiatrist), OrgUnit: Hospital},
	}
	accounts := []Account{{Username: "admin", Role: auth.Admin}}
	for _, u := range staff {
		u.Password = Password
		if _, err := svc.CreateUserWithPassword(ctx, u); err != nil {
			return nil, fmt.Errorf("demo: user %s: %w", u.Username, err)
		}
		accounts = append(accounts, Account{Username: u.Username, Role: auth.Role(u.Role), OrgUnit: u.OrgUnit})
	}
	if err := seedNetwork(ctx, svc); err != nil {
		return nil, err
	}
	return accounts, nil
}
