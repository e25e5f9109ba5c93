package demo

import (
	"context"
	"fmt"

	"kith/internal/auth"
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
	return seedArticles(ctx, svc)
}

// seedArticles publishes the demo's articles in both languages, written by
// the district administrator and the community manager (the editors), and
// leaves one draft.
func seedArticles(ctx context.Context, svc *care.Service) error {
	district := care.WithActor(ctx, &care.Actor{Username: "district", FullName: "Zhou Min 周敏", Role: auth.DistrictAdmin,
		UnitCode: District, UnitPath: "/" + District + "/"})
	manager := care.WithActor(ctx, &care.Actor{Username: "manager", FullName: "Zhang Wei 张伟", Role: auth.CommunityManager,
		UnitCode: "C0101", UnitPath: "/" + District + "/S01/C0101/"})
	for _, a := range []struct {
		ctx context.Context
		in  care.ArticleInput
	}{
		{district, care.ArticleInput{Title: "认识抑郁：不只是心情不好", Lang: "zh-Hans", Slug: "renshi-yiyu", Published: true, BodyMarkdown: articleDepressionZH}},
		{district, care.ArticleInput{Title: "Depression: more than feeling low", Lang: "en", Slug: "understanding-depression", Published: true, BodyMarkdown: articleDepressionEN}},
		{manager, care.ArticleInput{Title: "照顾家人，也照顾好自己", Lang: "zh-Hans", Slug: "zhaogu-jiaren", Published: true, BodyMarkdown: articleCarersZH}},
		{manager, care.ArticleInput{Title: "Caring for a family member, and for yourself", Lang: "en", Slug: "caring-for-carers", Published: true, BodyMarkdown: articleCarersEN}},
		{manager, care.ArticleInput{Title: "心理健康周活动预告（草稿）", Lang: "zh-Hans", Slug: "xinli-jiankang-zhou", BodyMarkdown: "## 活动安排\n\n待定。"}},
	} {
		if _, err := svc.CreateArticle(a.ctx, a.in); err != nil {
			return fmt.Errorf("demo: article %s: %w", a.in.Slug, err)
		}
	}
	return nil
}

const articleDepressionZH = `抑郁症是一种常见、可以治疗的疾病。它不是性格软弱，也不是“想开点”就能好。

## 常见表现

- 几乎每天情绪低落，持续两周以上
- 对以前喜欢的事情失去兴趣
- 睡眠、食欲明显改变
- 感到疲惫、注意力难以集中
- 觉得自己没有价值，甚至有伤害自己的想法

## 可以做什么

1. **说出来**：和信任的人谈谈您的感受。
2. **做个自评**：本网站的 PHQ-9 问卷只需几分钟，完全匿名。
3. **寻求帮助**：社区卫生服务中心和区精神卫生中心都可以提供评估和治疗。

如果您有伤害自己的想法，请立即拨打 **12356** 心理援助热线，或在紧急情况下拨打 **120**。`

const articleDepressionEN = `Depression is a common illness that can be treated. It is not a weakness of character, and it does not go away by "cheering up".

## Signs to look for

- Feeling low nearly every day for two weeks or more
- Losing interest in things you used to enjoy
- Sleeping or eating much more or much less
- Feeling tired and finding it hard to concentrate
- Feeling worthless, or thinking of harming yourself

## What you can do

1. **Talk about it** with someone you trust.
2. **Take a self-check**: the PHQ-9 on this site takes a few minutes and is anonymous.
3. **Get help**: your community health centre and the district mental health hospital can assess and treat depression.

If you are thinking of harming yourself, call the **12356** helpline now, or **120** in an emergency.`

const articleCarersZH = `家人患有严重精神障碍时，照顾者常常承受很大的压力。照顾好自己，才能更好地照顾家人。

## 给照顾者的建议

- **按时服药最重要**：帮助家人坚持服药，留意不良反应，及时告诉社区医生。
- **留意复发信号**：睡眠变差、言行反常、拒绝服药，都可能是复发的早期信号。
- **不要独自承担**：社区的照顾者互助小组每月活动，可以和有相同经历的家属交流。
- **给自己留时间**：每天留出一点属于自己的时间，休息和放松。

社区精神卫生管理人员会定期随访。有任何担心，请拨打您所在社区卫生服务站的电话。`

const articleCarersEN = `Looking after a family member with a severe mental illness can be hard. Taking care of yourself helps you take care of them.

## Advice for carers

- **Medication comes first**: help your relative take it regularly, watch for side effects and tell the community doctor.
- **Know the early signs of relapse**: poor sleep, unusual behaviour or refusing medication.
- **Do not carry it alone**: the caregivers' support group meets every month — talk with families who have been there.
- **Keep time for yourself**: a little time each day to rest.

The community mental health worker visits regularly. If you are worried, call your community health station.`
