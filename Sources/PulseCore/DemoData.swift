import Foundation

/// A small, repeatable generator (SplitMix64) for demo and benchmark data.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A draw from a normal distribution (Box-Muller).
    public mutating func normal(mean: Double = 0, sd: Double = 1) -> Double {
        let u1 = Double.random(in: Double.ulpOfOne..<1, using: &self)
        let u2 = Double.random(in: 0..<1, using: &self)
        return mean + sd * (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
    }
}

/// The sample workspace of `pulse demo`: a roster of 20 reps in three teams and
/// several weeks of answers, made from a fixed seed so every run tells the same story.
public struct DemoData: Sendable {
    public struct Person: Sendable {
        public var email: String
        public var name: String
        public var team: String
        public var manager: String
        public var region: String
        public var locale: String
        public var timezone: String
        /// Where this rep's morale sits, 0-1.
        public var mood: Double
    }

    public let people: [Person]
    public let weeks: [Period]
    public let quarters: [Period]
    /// The rep whose morale falls over the last weeks (the demo's prep note is for them).
    public let dropping: String
    /// Each rep's underlying mood per week (0-1): their answers and their activity both follow it.
    public let weeklyMood: [String: [Period: Double]]

    /// - Parameters:
    ///   - today: the demo's date; the answers cover the weeks up to the one before it.
    ///   - weekCount: how many weekly rounds.
    public init(today: Day, weekCount: Int = 8) {
        var rng = SeededRandom(seed: 20_261_122)
        let teams: [(name: String, manager: String, region: String, zone: String, people: [(String, String, String)])] = [
            ("enterprise", "dana.lee@acme.example", "APAC", "Asia/Bangkok", [
                ("Niran Chaiyaporn", "niran", "th"), ("Ploy Srisuk", "ploy", "th"), ("Somchai Wong", "somchai", "th"),
                ("Aisha Rahman", "aisha", "ms"), ("James Porter", "james", "en"), ("Mei Lin Tan", "meilin", "en"),
                ("Kittisak Boonmee", "kittisak", "th"), ("Farah Aziz", "farah", "ms"),
            ]),
            ("mid-market", "oleg.ivanov@acme.example", "EMEA", "Europe/Moscow", [
                ("Anna Petrova", "anna", "ru"), ("Dmitri Sokolov", "dmitri", "ru"), ("Olga Smirnova", "olga", "ru"),
                ("Tom Baker", "tom", "en"), ("Sara Quinn", "sara", "en"), ("Ivan Kuznetsov", "ivan", "ru"),
                ("Lucy Hart", "lucy", "en"),
            ]),
            ("smb", "rosli.hassan@acme.example", "APAC", "Asia/Kuala_Lumpur", [
                ("Nur Aina", "aina", "ms"), ("Hafiz Ismail", "hafiz", "ms"), ("Emily Chen", "emily", "en"),
                ("Zul Karim", "zul", "ms"), ("Grace Ng", "grace", "en"),
            ]),
        ]
        var people: [Person] = []
        for t in teams {
            let teamMood = t.name == "mid-market" ? 0.52 : t.name == "smb" ? 0.66 : 0.62
            for p in t.people {
                people.append(Person(email: "\(p.1)@acme.example", name: p.0, team: t.name, manager: t.manager,
                                     region: t.region, locale: p.2, timezone: t.zone,
                                     mood: min(0.9, max(0.2, rng.normal(mean: teamMood, sd: 0.1)))))
            }
        }
        self.people = people
        dropping = "niran@acme.example"
        var w = Period.week(of: today).previous
        var weeks: [Period] = []
        for _ in 0..<weekCount {
            weeks.insert(w, at: 0)
            w = w.previous
        }
        self.weeks = weeks
        let q = Period.quarter(of: weeks.last!.end)
        quarters = [q.previous, q]
        var moods: [String: [Period: Double]] = [:]
        var moodRng = SeededRandom(seed: 99)
        for p in people {
            for (i, week) in weeks.enumerated() {
                var mood = p.mood + moodRng.normal(sd: 0.07)
                if p.email == dropping && i >= weeks.count - 3 { mood -= 0.18 * Double(i - (weeks.count - 4)) }
                moods[p.email, default: [:]][week] = mood
            }
        }
        weeklyMood = moods
    }

    /// Daily CRM activity (Monday to Friday) for the same weeks: calls and meetings rise
    /// and fall with each rep's mood that week, deals close now and then.
    public var activityCSV: String {
        var rng = SeededRandom(seed: 4711)
        var w = CSVWriter()
        w.header(["email", "date", "calls", "emails", "meetings", "opportunities_created", "deals_won", "deals_lost", "revenue_won"])
        for p in people {
            let baseCalls = 14 + Double(rng.next() % 10)
            for week in weeks {
                let lift = ((weeklyMood[p.email]?[week] ?? p.mood) - p.mood) * 40
                for d in 0..<5 {
                    let day = week.start + d
                    let calls = max(0, Int((baseCalls + lift + rng.normal(sd: 3)).rounded()))
                    let emails = max(0, Int((22 + lift / 2 + rng.normal(sd: 5)).rounded()))
                    let meetings = max(0, Int((1.5 + lift / 8 + rng.normal(sd: 0.8)).rounded()))
                    let won = rng.next() % 9 == 0 ? 1 : 0, lost = rng.next() % 7 == 0 ? 1 : 0
                    let revenue = won == 1 ? Double(4000 + Int(rng.next() % 80) * 100) : 0
                    w.row([.text(p.email), .text(day.description), .int(calls), .int(emails), .int(meetings),
                           .int(rng.next() % 4 == 0 ? 1 : 0), .int(won), .int(lost), .number(revenue)])
                }
            }
        }
        return w.text
    }

    /// Opportunities as a Salesforce report exports them, over the half year up to the
    /// last full week: one to three a week per rep, most closing within two months. The
    /// deals of the rep whose morale falls stop moving six weeks before the end: most stay
    /// open, the rest are lost, and the odd old one is won late at a discount. An open
    /// opportunity carries its expected close date, as the export does (Pulse ignores it).
    public var opportunitiesCSV: String {
        var rng = SeededRandom(seed: 5150)
        var w = CSVWriter()
        w.header(["id", "email", "created", "closed", "status", "amount"])
        let last = weeks.last!.end, first = weeks.last!.start - 7 * 25, stallFrom = weeks.last!.start - 7 * 9
        let openStages = ["Prospecting", "Qualification", "Proposal", "Negotiation"]
        var n = 0
        for p in people {
            let winChance = 0.3 + 0.35 * p.mood
            for k in 0..<26 {
                for _ in 0..<(1 + Int(rng.next() % 3)) {
                    n += 1
                    let created = first + 7 * k + Int(rng.next() % 5)
                    var closed = created + 14 + Int(rng.next() % 43)
                    var won = Double(rng.next() % 1000) / 1000 < winChance
                    var amount = 3000 + Int(rng.next() % 90) * 100
                    let stage = openStages[Int(rng.next() % UInt64(openStages.count))]
                    if p.email == dropping && closed >= stallFrom {
                        switch rng.next() % 20 {
                        case 0..<5: closed = last + 14 + Int(rng.next() % 30)
                        case 5..<18: won = false
                        default: won = true; amount /= 3; closed = closed + 75
                        }
                    }
                    let status = closed > last ? stage : won ? "Closed Won" : "Closed Lost"
                    w.row([.text(String(format: "006Dm%07d", n)), .text(p.email), .text(created.description), .text(closed.description),
                           .text(status), .int(amount)])
                }
            }
        }
        return w.text
    }

    /// Leads over the same half year: two to four a week per rep, about a third converted
    /// within three weeks (fewer for the rep whose deals stall, once they do).
    public var leadsCSV: String {
        var rng = SeededRandom(seed: 5151)
        var w = CSVWriter()
        w.header(["id", "email", "created", "converted"])
        let last = weeks.last!.end, first = weeks.last!.start - 7 * 25, stallFrom = weeks.last!.start - 7 * 5
        var n = 0
        for p in people {
            for k in 0..<26 {
                for _ in 0..<(2 + Int(rng.next() % 3)) {
                    n += 1
                    let created = first + 7 * k + Int(rng.next() % 7)
                    let chance = p.email == dropping && created >= stallFrom ? 0.1 : 0.2 + 0.25 * p.mood
                    let converted = Double(rng.next() % 1000) / 1000 < chance ? created + 2 + Int(rng.next() % 20) : nil
                    w.row([.text(String(format: "00QDm%07d", n)), .text(p.email), .text(created.description),
                           .text(converted.flatMap { $0 <= last ? $0.description : nil })])
                }
            }
        }
        return w.text
    }

    /// A quarterly quota for every rep.
    public var quotaCSV: String {
        var w = CSVWriter()
        w.header(["email", "period", "quota"])
        for p in people {
            for q in quarters { w.row([.text(p.email), .text(q.description), .int(p.team == "enterprise" ? 90_000 : 60_000)]) }
        }
        return w.text
    }

    public var rosterCSV: String {
        var w = CSVWriter()
        w.header(["email", "name", "team", "manager_email", "region", "locale", "timezone"])
        for p in people {
            w.row([.text(p.email), .text(p.name), .text(p.team), .text(p.manager), .text(p.region), .text(p.locale), .text(p.timezone)])
        }
        return w.text
    }

    /// Weekly pulse answers (energy, workload, support, quota_confidence on 1-5 and a
    /// comment now and then), two quarters of anonymous eNPS and of the anonymous
    /// engagement survey.
    public var responsesCSV: String {
        var rng = SeededRandom(seed: 47)
        var w = CSVWriter()
        w.header(["email", "survey", "period", "energy", "workload", "support", "quota_confidence", "comment", "enps", "reason"]
            + Self.drivers)
        let comments = [
            "en": ["Pipeline looks thin for next month.", "Good week, closed the renewal.", "Too many internal meetings."],
            "th": ["สัปดาห์นี้งานเยอะมาก", "ลูกค้าตอบรับดี", "อยากได้การสนับสนุนเรื่องการเสนอราคา"],
            "ms": ["Minggu yang baik.", "Terlalu banyak mesyuarat dalaman.", "Perlukan bantuan dengan prospek baharu."],
            "ru": ["Много отчётов, мало звонков.", "Хорошая неделя, закрыли сделку.", "Нужна помощь с крупным клиентом."],
        ]
        func scale(_ mood: Double) -> Int { min(5, max(1, Int((1 + mood * 4 + rng.normal(sd: 0.55)).rounded()))) }
        for (i, week) in weeks.enumerated() {
            for p in people {
                // Some answers are missing: about one in ten, fewer in the small team.
                if rng.next() % (p.team == "smb" ? 40 : 10) == 0 && p.email != dropping { continue }
                let mood = weeklyMood[p.email]![week]!
                let comment: String
                if rng.next() % 5 == 0 || (p.email == dropping && i == weeks.count - 1) {
                    let list = comments[p.locale] ?? comments["en"]!
                    comment = p.email == dropping && i == weeks.count - 1 ? "ทำงานดึกทุกวัน เหนื่อยมาก" : list[Int(rng.next() % UInt64(list.count))]
                } else {
                    comment = ""
                }
                w.row([.text(p.email), .text("weekly-pulse"), .text(week.description), .int(scale(mood)),
                       .int(scale(mood - 0.08)), .int(scale(mood + 0.05)), .int(scale(mood - 0.04)), .text(comment),
                       .text(nil), .text(nil)] + Self.drivers.map { _ in .text(nil) })
            }
        }
        let reasons = ["Great team.", "Compensation plan changed.", "My manager has my back.", "Territory got smaller."]
        for q in quarters {
            for p in people where rng.next() % 12 != 0 {
                let score = min(10, max(0, Int((p.mood * 10 + 1.2 + rng.normal(sd: 1.6)).rounded())))
                let reason = rng.next() % 3 == 0 ? reasons[Int(rng.next() % UInt64(reasons.count))] : ""
                w.row([.text(p.email), .text("enps"), .text(q.description), .text(nil), .text(nil), .text(nil),
                       .text(nil), .text(nil), .int(score), .text(reason)] + Self.drivers.map { _ in .text(nil) })
            }
        }
        // The engagement survey: growth and manager support carry the eNPS answer, the
        // tools hardly at all (their own random generator, so the rows above stay as they were).
        var e = SeededRandom(seed: 49)
        func agree(_ x: Double) -> Int { min(5, max(1, Int((1 + x * 4 + e.normal(sd: 0.45)).rounded()))) }
        let changes = ["Clearer commission rules.", "Fewer internal reports.", "More coaching on big deals."]
        for q in quarters {
            for p in people where e.next() % 10 != 0 {
                let growth = e.normal(sd: 0.18), support = e.normal(sd: 0.18)
                let score = min(10, max(0, Int(((p.mood + growth + support) * 10 + 1 + e.normal(sd: 1.0)).rounded())))
                let answers = [agree(p.mood + growth), agree(p.mood + 0.5 * growth + e.normal(sd: 0.1)), agree(p.mood + support),
                               agree(p.mood - 0.1 + e.normal(sd: 0.2)), agree(0.6 + e.normal(sd: 0.15)),
                               agree(p.mood + 0.3 * support + e.normal(sd: 0.1)), agree(p.mood - 0.15 + e.normal(sd: 0.15))]
                let comment = e.next() % 4 == 0 ? changes[Int(e.next() % UInt64(changes.count))] : ""
                w.row([.text(p.email), .text("engagement"), .text(q.description), .text(nil), .text(nil), .text(nil), .text(nil),
                       .text(comment), .int(score), .text(nil)] + answers.map { .int($0) })
            }
        }
        return w.text
    }

    /// The driver statements of the engagement survey, in its order.
    public static let drivers = ["growth", "recognition", "manager_support", "manageable_workload", "tools", "belonging", "targets"]

    /// This week's pulse as the demo's reps answer it through their links, as form
    /// fields by email: most answer, the rep whose morale is dropping answers lowest.
    public func webAnswers() -> [(email: String, fields: [(String, String)])] {
        var rng = SeededRandom(seed: 48)
        func scale(_ mood: Double) -> String { String(min(5, max(1, Int((1 + mood * 4 + rng.normal(sd: 0.5)).rounded())))) }
        var out: [(String, [(String, String)])] = []
        // One or two of the larger teams do not answer; the small team all does (the threshold is 5).
        for p in people where rng.next() % 8 != 0 || p.email == dropping || p.team == "smb" {
            let mood = p.email == dropping ? p.mood - 0.55 : p.mood + rng.normal(sd: 0.05)
            var fields = [("energy", scale(mood)), ("workload", scale(mood - 0.08)), ("support", scale(mood + 0.05)),
                          ("quota_confidence", scale(mood - 0.04))]
            if p.email == dropping { fields.append(("comment", "ยังทำงานดึกอยู่ อยากคุยเรื่องเป้า")) }
            out.append((p.email, fields))
        }
        return out
    }
}
