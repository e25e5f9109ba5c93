package demo

import (
	"context"
	"fmt"

	"kith/internal/care"
	"kith/internal/directory"
)

// seedNetwork fills the demo district's service network: the demo
// directory (hotlines, the hospital, health centres, a counselling room,
// vocational training, an NGO) and the volunteers and partner organisations
// kept beside it with their contact person. ctx acts as the administrator.
func seedNetwork(ctx context.Context, svc *care.Service) error {
	if _, err := svc.SeedDirectory(ctx, directory.Demo()); err != nil {
		return fmt.Errorf("demo: directory: %w", err)
	}
	for _, in := range []care.ProviderInput{
		{Name: "清河街道心理志愿者服务队", NameEN: "Qinghe Street mental health volunteers", Kind: care.KindVolunteers,
			Phone: "010-5555-0160", Hours: "周末活动，平日电话联系", HoursEN: "Weekend activities; phone on weekdays",
			Capacity: 25, Offers: "陪伴探访、康复活动协助、社区宣传", OffersEN: "Befriending visits, help at rehabilitation activities, community outreach",
			ContactName: "Sun Li 孙丽", ContactPhone: "139-0000-0160", Serves: []string{"S01"}},
		{Name: "河畔区残疾人联合会", NameEN: "Riverside District Disabled Persons' Federation", Kind: care.KindPartner,
			Address: "兴业路15号", AddressEN: "15 Xingye Road", Phone: "010-5555-0141", Hours: "周一至周五 8:30–17:00",
			HoursEN: "Mon–Fri 8:30–17:00", Offers: "残疾证办理、职业培训转介、就业补贴", OffersEN: "Disability certificates, referral to vocational training, employment subsidies",
			ContactName: "Qian Jun 钱军", ContactPhone: "010-5555-0142", Serves: []string{District}},
		{Name: "西苑社区心理援助热线", NameEN: "Xiyuan community support line", Kind: care.KindHotline,
			Phone: "010-5555-0199", Hours: "每天 18:00–22:00", HoursEN: "Daily 18:00–22:00", Serves: []string{"S03"}},
	} {
		if _, err := svc.CreateProvider(ctx, in); err != nil {
			return fmt.Errorf("demo: service %s: %w", in.NameEN, err)
		}
	}
	return nil
}
