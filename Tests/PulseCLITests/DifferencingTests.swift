import Foundation
import PulseCore
import Testing

/// Attack 4 of issue 13: an operator who collects every output of `enps`, `trends`,
/// `drivers`, `report` and `prep`, in every breakdown, single period and range, over
/// three rounds of an anonymous survey with cells of 1, 2 and 3 respondents and a rep
/// who changes team between rounds, and tries to work out any small cell's answers:
/// by linear algebra over the group counts, and by the exchange test (answers exchanged
/// within each reporting group change no output). Pulse decided suppression per table:
/// `--by all` minus the shown teams, or a region minus its manager, gave the hidden ones.
@Suite(.serialized, .timeLimit(.minutes(6))) struct DifferencingTests {
    static let threshold = 5
    static let drivers = AnonymityTests.drivers

    /// The roster: east and west of eight, smb of three and ops of two (sharing east's
    /// and west's managers and regions), and solo, one rep with a manager of their own.
    static let teams: [(team: String, manager: String, region: String, size: Int)] = [
        ("east", "mia", "APAC", 8), ("west", "noa", "EMEA", 8), ("smb", "mia", "APAC", 3), ("ops", "noa", "EMEA", 2),
        ("solo", "zed", "APAC", 1),
    ]
    static var reps: [(email: String, team: Int)] {
        teams.indices.flatMap { t in (0..<teams[t].size).map { ("\(teams[t].team)\($0)@example.org", t) } }
    }

    /// The three quarters up to the suite's, oldest first.
    static let quarters: [Period] = {
        let q4 = Period.quarter(of: TestClock.monday)
        let q3 = Period.quarter(of: q4.start - 1)
        return [Period.quarter(of: q3.start - 1), q3, q4]
    }()

    /// Who answers in which round: everyone first; then smb of one, ops of two and no solo;
    /// then, with east7 moved to smb, smb of three, ops of one and solo.
    static func answers(round: Int) -> [String] {
        reps.map(\.email).filter { e in
            switch round {
            case 0: true
            case 1: !["east6@", "east7@", "smb1@", "smb2@", "solo0@"].contains { e.hasPrefix($0) }
            default: !["west7@", "smb0@", "ops1@"].contains { e.hasPrefix($0) }
            }
        }
    }

    /// One answer row (eNPS, the seven drivers, a comment) per rep and round, from a fixed seed.
    static func answerRows() -> [[String: [String]]] {
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next(_ n: Int) -> Int {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((seed >> 33) % UInt64(n))
        }
        return (0..<3).map { round in
            var rows: [String: [String]] = [:]
            for e in answers(round: round) {
                rows[e] = [String(next(11))] + drivers.map { _ in String(1 + next(5)) } + ["c\(round)-\(e.prefix(while: { $0 != "@" }))"]
            }
            return rows
        }
    }

    func rosterCSV(moved: Bool) -> String {
        var csv = "email,name,team,manager_email,region\n"
        for (email, t) in Self.reps {
            let team = moved && email.hasPrefix("east7@") ? 2 : t
            let g = Self.teams[team]
            csv += "\(email),\(email.prefix(while: { $0 != "@" })),\(g.team),\(g.manager)@example.org,\(g.region)\n"
        }
        return csv
    }

    /// A workspace with the three rounds imported (the roster change between the second
    /// and the third), from the given answers, under `importThreshold` (the reports then
    /// run under the default, 5).
    func workspace(_ rows: [[String: [String]]], importThreshold: Int = threshold) throws -> Workspace {
        let w = try Workspace()
        #expect(try w.pulse("init", "--with", "engagement").status == 0)
        let config = (try? String(contentsOfFile: w.path("pulse.yaml"), encoding: .utf8)) ?? ""
        if importThreshold != Self.threshold { try w.write("pulse.yaml", config + "\nmin_group_size: \(importThreshold)\n") }
        defer { try? w.write("pulse.yaml", config) }
        for round in 0..<3 {
            try w.write("roster.csv", rosterCSV(moved: round == 2))
            #expect(try w.pulse("roster", "import", "roster.csv").status == 0)
            var csv = "email,survey,period,enps,\(Self.drivers.joined(separator: ",")),comment\n"
            for e in Self.answers(round: round) { csv += "\(e),engagement,\(Self.quarters[round])," + rows[round][e]!.joined(separator: ",") + "\n" }
            try w.write("answers-\(round).csv", csv)
            let r = try w.pulse("responses", "import", "answers-\(round).csv")
            #expect(r.status == 0, "\(r.stderr)")
        }
        return w
    }

    /// What the operator attacks: an anonymous survey's rounds, the teams and the reps,
    /// and where the commands find the workspace.
    struct Target {
        var survey = "engagement"
        var periods = DifferencingTests.quarters
        var teams = DifferencingTests.teams.map(\.team)
        var emails = DifferencingTests.reps.map(\.email)
        var env: [String: String] = [:]
        /// Whether the survey has scale questions for `drivers`.
        var drivers = true

        /// The ranges every command is asked about: each round, and every run of rounds.
        var ranges: [(rounds: [Int], args: [String])] {
            var out: [([Int], [String])] = periods.indices.map { ([$0], ["--period", periods[$0].description]) }
            for a in periods.indices { for b in periods.indices where b > a {
                out.append((Array(a...b), ["--from", periods[a].description, "--to", periods[b].description]))
            } }
            return out
        }
    }

    /// A figure the operator reads: over which rounds, by what, which group, and how many
    /// answers it says it holds.
    struct Figure: Hashable {
        var rounds: [Int]
        var by: GroupBy
        var group: String
        var n: Int
    }

    /// Every output, by command line, and the figures in it.
    func collect(_ w: Workspace, _ t: Target = Target()) throws -> (outputs: [String: String], figures: [Figure]) {
        var outputs: [String: String] = [:], figures: [Figure] = []
        let survey = t.survey, periods = t.periods
        func run(_ args: [String]) throws -> [String: Any] {
            let r = try w.pulse(args, env: t.env)
            #expect(r.status == 0, "\(args): \(r.stderr)")
            outputs[args.joined(separator: " ")] = r.stdout + r.stderr
            return (try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]) ?? [:]
        }
        for range in t.ranges {
            for by in GroupBy.allCases {
                let enps = try run(["enps", "--survey", survey, "--by", by.rawValue, "--format", "json"] + range.args)
                for g in enps["groups"] as? [[String: Any]] ?? [] {
                    if let n = g["responses"] as? Int { figures.append(Figure(rounds: range.rounds, by: by, group: g["group"] as! String, n: n)) }
                }
                let trends = try run(["trends", "--survey", survey, "--by", by.rawValue, "--format", "json"] + range.args)
                for s in trends["series"] as? [[String: Any]] ?? [] {
                    for p in s["points"] as? [[String: Any]] ?? [] {
                        guard let n = p["respondents"] as? Int, let i = periods.firstIndex(where: { $0.description == p["period"] as? String })
                        else { continue }
                        figures.append(Figure(rounds: [i], by: by, group: s["group"] as! String, n: n))
                    }
                }
            }
            if t.drivers {
                let drivers = try run(["drivers", "--survey", survey, "--format", "json"] + range.args)
                if let n = drivers["responses"] as? Int { figures.append(Figure(rounds: range.rounds, by: .all, group: "all", n: n)) }
            }
        }
        let weeks = ["--from", Period.week(of: periods.first!.start).description, "--to", Period.week(of: periods.last!.end).description]
        for team in [nil] + t.teams {
            let report = try run(["report", "--survey", survey, "--enps-survey", survey, "--format", "json", "--as-of",
                                  periods.last!.end.description] + weeks + (team.map { ["--team", $0] } ?? []))
            for e in report["enps"] as? [[String: Any]] ?? [] {
                guard let n = e["responses"] as? Int, let i = periods.firstIndex(where: { $0.description == e["period"] as? String }) else { continue }
                figures.append(Figure(rounds: [i], by: team == nil ? .all : .team, group: team ?? "all", n: n))
            }
        }
        for (round, period) in periods.enumerated() {
            for email in t.emails {
                let prep = try run(["prep", email, "--as-of", period.end.description, "--format", "json"])
                if let e = prep["team_enps"] as? [String: Any], e["survey"] as? String == survey, let n = e["responses"] as? Int {
                    figures.append(Figure(rounds: [round], by: .team, group: e["team"] as! String, n: n))
                }
            }
        }
        return (outputs, figures)
    }

    typealias Cell = GroupKeys

    /// What the operator reads from the database: per round, each respondent's groups at
    /// answering time (their invitation) and the groups stored with the answers.
    func operatorView(_ w: Workspace, _ t: Target = Target(), db: String? = nil) throws -> (cells: [[String: Cell]], stored: [[Cell: Int]]) {
        let db = db ?? w.path("pulse.sqlite")
        let periods = t.periods
        var cells = [[String: Cell]](repeating: [:], count: periods.count), stored = [[Cell: Int]](repeating: [:], count: periods.count)
        let invitations = try #require(try JSONSerialization.jsonObject(with: Data(try python("sqlite_exec.py", [db, """
            SELECT r.period, p.email, i.team, i.manager_email, i.region FROM invitation i JOIN round r ON r.id = i.round_id
            JOIN rep p ON p.id = i.rep_id WHERE i.answered AND r.survey_id = '\(t.survey)'
            """]).utf8)) as? [[Any]])
        for row in invitations {
            guard let q = periods.firstIndex(where: { $0.description == row[0] as? String }) else { continue }
            cells[q][row[1] as! String] = Cell(team: row[2] as? String, managerEmail: row[3] as? String, region: row[4] as? String)
        }
        let tags = try #require(try JSONSerialization.jsonObject(with: Data(try python("sqlite_exec.py", [db, """
            SELECT r.period, s.team, s.manager_email, s.region, COUNT(*) FROM response s JOIN round r ON r.id = s.round_id
            WHERE r.survey_id = '\(t.survey)' GROUP BY 1, 2, 3, 4
            """]).utf8)) as? [[Any]])
        for row in tags {
            guard let q = periods.firstIndex(where: { $0.description == row[0] as? String }) else { continue }
            stored[q][Cell(team: row[1] as? String, managerEmail: row[2] as? String, region: row[3] as? String)] = row[4] as? Int
        }
        return (cells, stored)
    }

    static func project(_ c: Cell, level: Int) -> Cell {
        switch level {
        case 0: c
        case 1: Cell(team: nil, managerEmail: c.managerEmail, region: c.region)
        case 2: Cell(team: nil, managerEmail: nil, region: c.region)
        default: Cell()
        }
    }

    /// Every way of giving each cell of a round one of its generalisations (all of the
    /// cell, manager and region, region, nothing), as the attacker's hypotheses of where
    /// each respondent's answer is counted; with `stored`, only those that reproduce the
    /// groups stored with the answers.
    static func hypotheses(cells: [String: Cell], stored: [Cell: Int]? = nil) -> [[String: Cell]] {
        let distinct = Array(Set(cells.values)).sorted { "\($0)" < "\($1)" }
        var out: [[String: Cell]] = []
        var levels = [Int](repeating: 0, count: distinct.count)
        func fill(_ i: Int) {
            if i == distinct.count {
                var counts: [Cell: Int] = [:]
                var reported: [String: Cell] = [:]
                for (rep, c) in cells {
                    let p = project(c, level: levels[distinct.firstIndex(of: c)!])
                    counts[p, default: 0] += 1
                    reported[rep] = p
                }
                if stored == nil || counts == stored { out.append(reported) }
                return
            }
            for l in 0..<4 { levels[i] = l; fill(i + 1) }
        }
        fill(0)
        return out
    }

    /// Rank of a set of rows, by Gaussian elimination (0/1 rows of a few hundred: doubles suffice).
    static func rank(_ rows: [[Double]]) -> Int {
        var m = rows
        var r = 0
        let columns = m.first?.count ?? 0
        for c in 0..<columns where r < m.count {
            guard let p = (r..<m.count).max(by: { abs(m[$0][c]) < abs(m[$1][c]) }), abs(m[p][c]) > 1e-9 else { continue }
            m.swapAt(r, p)
            for i in 0..<m.count where i != r && abs(m[i][c]) > 1e-12 {
                let f = m[i][c] / m[r][c]
                for j in c..<columns { m[i][j] -= f * m[r][j] }
            }
            r += 1
        }
        return r
    }

    /// Answers imported under the threshold in force, and under a threshold of 3 raised to
    /// 5 afterwards (stored groups finer than the reports may show, as in a database
    /// written before the groups were limited): the figures hold to the threshold of the
    /// day either way. The attacker does not rely on the stored groups: it tries every way
    /// the respondents' cells could have been counted that agrees with every figure.
    @Test(arguments: [5, 3]) func noCombinationOfOutputsSinglesOutASmallCell(importThreshold: Int) throws {
        let rows = Self.answerRows()
        let w = try workspace(rows, importThreshold: importThreshold)
        defer { w.remove() }
        let (outputs, figures) = try collect(w)
        let result = try attack(figures, view: try operatorView(w), periods: Self.quarters)
        #expect(result.smallCells >= 5, "the data has small cells to attack: \(result.smallCells)")
        print("differencing (imported under \(importThreshold)): \(outputs.count) outputs, \(result.summary)")
        #expect(result.consistent > 0, "the attacker's reading of the groups explains every figure")
        #expect(result.found.isEmpty, "determined from the outputs: \(result.found)")
    }

    struct AttackResult {
        var consistent = 0
        var found: [String] = []
        var smallCells = 0
        var summary = ""
    }

    /// The linear-algebra attacker. The unknowns are each respondent's answer in each
    /// round; each figure is a sum of them over the respondents it counts. Under every
    /// reading of where each cell's answers are counted that agrees with every figure's
    /// count, a target (a respondent alone, a cell or a team of fewer than the threshold
    /// in a round) is determined when its sum lies in the span of the figures' sums.
    func attack(_ figures: [Figure], view: (cells: [[String: Cell]], stored: [[Cell: Int]]), periods: [Period]) throws -> AttackResult {
        let rounds = periods.indices
        var unknowns: [String] = []
        var index: [String: Int] = [:]
        for q in rounds { for rep in view.cells[q].keys.sorted() { index["\(q) \(rep)"] = unknowns.count; unknowns.append("\(q) \(rep)") } }
        var targets: [(String, [Int])] = unknowns.enumerated().map { ($0.element, [$0.offset]) }
        var result = AttackResult()
        for q in rounds {
            var byCell: [Cell: [Int]] = [:], byTeam: [String: [Int]] = [:]
            for (rep, c) in view.cells[q] {
                byCell[c, default: []].append(index["\(q) \(rep)"]!)
                byTeam[c.team ?? "", default: []].append(index["\(q) \(rep)"]!)
            }
            for (c, members) in byCell where members.count < Self.threshold {
                targets.append(("\(periods[q]) cell \(c.team ?? "-")/\(c.managerEmail ?? "-")/\(c.region ?? "-")", members))
                result.smallCells += 1
            }
            for (t, members) in byTeam where members.count < Self.threshold { targets.append(("\(periods[q]) team \(t)", members)) }
        }
        func members(_ f: Figure, _ h: [[String: Cell]]) -> [Int] {
            f.rounds.flatMap { q in h[q].filter { f.by.group(of: $0.value) == f.group }.map { index["\(q) \($0.key)"]! } }
        }
        let distinctFigures = Array(Set(figures))
        // Rounds are independent under a reading, so each round's readings are sifted by its own figures first.
        let perRound = rounds.map { q in Self.hypotheses(cells: view.cells[q]).filter { h in
            distinctFigures.filter { $0.rounds == [q] }.allSatisfy { f in h.filter { f.by.group(of: $0.value) == f.group }.count == f.n }
        } }
        var found = Set<String>()
        func tryReadings(_ chosen: [[String: Cell]]) {
            if chosen.count < perRound.count {
                for h in perRound[chosen.count] { tryReadings(chosen + [h]) }
                return
            }
            guard distinctFigures.allSatisfy({ members($0, chosen).count == $0.n }) else { return }
            result.consistent += 1
            let matrix = Set(distinctFigures.map { members($0, chosen) }).map { m -> [Double] in
                var row = [Double](repeating: 0, count: unknowns.count)
                for i in m { row[i] = 1 }
                return row
            }
            let base = Self.rank(matrix)
            for (name, t) in targets {
                var row = [Double](repeating: 0, count: unknowns.count)
                for i in t { row[i] = 1 }
                if Self.rank(matrix + [row]) == base { found.insert(name) }
            }
        }
        tryReadings([])
        result.found = found.sorted()
        result.summary = "\(figures.count) figures over \(Set(figures.map { "\($0.rounds) \($0.by) \($0.group)" }).count) groups, "
            + "\(unknowns.count) answers, \(targets.count) targets (each respondent, each cell and team under \(Self.threshold)), "
            + "\(result.consistent) readings of the groups agree with every figure: \(found.count) determined \(result.found.prefix(6))"
        return result
    }

    /// The demo's own data, attacked as the review did: its anonymous eNPS and engagement
    /// rounds (a team of three, teams with one or two not answering) through every
    /// output, by linear algebra; its import order; and its key file with a token for
    /// every invitation. (Its answers are imported: the web path is attacked in
    /// `AnonymityTests`.) On the code the issue was filed against, the linear algebra gave
    /// the smb team's answers of the first quarter.
    @Test func theDemosDataGivesNoSmallCellAway() throws {
        let w = try Workspace()
        defer { w.remove() }
        let demo = try w.pulse("demo", w.path("demo"), "--date", TestClock.monday.description)
        #expect(demo.status == 0, "\(demo.stderr)")
        let env = ["PULSE_DB": w.path("demo/pulse.sqlite"), "PULSE_SURVEYS": w.path("demo/Surveys"), "PULSE_CONFIG": w.path("demo/pulse.yaml")]
        let q = Period.quarter(of: TestClock.monday)
        let periods = [Period.quarter(of: q.start - 1), q]
        let roster = try String(contentsOfFile: w.path("demo/roster.csv"), encoding: .utf8).split(whereSeparator: \.isNewline).dropFirst()
            .map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        let emails = roster.map { $0[0] }, teams = Array(Set(roster.map { $0[2] })).sorted()
        for survey in ["enps", "engagement"] {
            let t = Target(survey: survey, periods: periods, teams: teams, emails: emails, env: env, drivers: survey == "engagement")
            let (outputs, figures) = try collect(w, t)
            let result = try attack(figures, view: try operatorView(w, t, db: w.path("demo/pulse.sqlite")), periods: periods)
            print("differencing (the demo's \(survey)): \(outputs.count) outputs, \(result.summary)")
            #expect(result.smallCells > 0, "\(survey): the demo has small cells to attack")
            #expect(result.consistent > 0 && result.found.isEmpty, "\(survey): \(result.found)")
        }
        // The import order: each round's answered invitations in id order paired with its
        // answers in the order their cells sit in the file (in the table's pages, and in
        // the response_report index's, where the review found it), against what the demo's
        // responses.csv says each rep answered.
        let db = w.path("demo/pulse.sqlite")
        var truth: [String: String] = [:]
        let lines = try String(contentsOfFile: w.path("demo/responses.csv"), encoding: .utf8).split(whereSeparator: \.isNewline)
        let header = lines[0].split(separator: ",").map(String.init)
        let enpsColumn = try #require(header.firstIndex(of: "enps"))
        for line in lines.dropFirst() {
            let f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            if ["enps", "engagement"].contains(f[1]) { truth["\(f[1]) \(f[2]) \(f[0])"] = f[enpsColumn] }
        }
        var paired = 0, right = 0, chance = 0.0
        for place in ["response", "response_report"] {
        let cells = try #require(try JSONSerialization.jsonObject(with: Data(try python("sqlite_cells.py", [db, place]).utf8))
            as? [String: [Int]])
        for survey in ["enps", "engagement"] { for period in periods {
            let invited = try sqlRows(db, """
                SELECT p.email FROM invitation i JOIN round r ON r.id = i.round_id JOIN rep p ON p.id = i.rep_id
                WHERE r.survey_id = '\(survey)' AND r.period = '\(period)' AND i.answered ORDER BY i.id
                """).map { $0[0] as! String }
            let answers = try sqlRows(db, """
                SELECT s.id, s.enps FROM response s JOIN round r ON r.id = s.round_id WHERE r.survey_id = '\(survey)' AND r.period = '\(period)'
                """).map { (id: ($0[0] as! NSNumber).int64Value, enps: "\($0[1])") }
                .sorted { a, b in
                    let x = cells[String(a.id)] ?? [0, 0], y = cells[String(b.id)] ?? [0, 0]
                    return x[0] * 65_536 - x[1] < y[0] * 65_536 - y[1]
                }
            #expect(invited.count == answers.count)
            var share: [String: Int] = [:]
            for a in answers { share[a.enps, default: 0] += 1 }
            chance += share.values.map { Double($0 * $0) / Double(answers.count) }.reduce(0, +)
            for (email, a) in zip(invited, answers) {
                paired += 1
                if truth["\(survey) \(period) \(email)"] == a.enps { right += 1 }
            }
        } }
        }
        // The key file: every invitation's token recomputed, against every stored value.
        let keys = try #require(try JSONSerialization.jsonObject(with: Data(try python("operator_keys.py",
            [db, db + ".key", "--every-invitation"]).utf8)) as? [String: Int])
        print("anonymity (the demo): import order pairs \(right) of \(paired) anonymous answers with their reps (chance: \(String(format: "%.1f", chance))); the key file's \(keys["tokens"] ?? 0) tokens match \(keys["matches"] ?? -1) of \(keys["values"] ?? 0) stored values")
        #expect(paired > 50 && Double(right) < 0.5 * Double(paired), "\(right) of \(paired)")
        #expect(keys["matches"] == 0 && (keys["tokens"] ?? 0) > 0)
    }

    func sqlRows(_ db: String, _ query: String) throws -> [[Any]] {
        try #require(try JSONSerialization.jsonObject(with: Data(try python("sqlite_exec.py", [db, query]).utf8)) as? [[Any]])
    }

    /// The exchange test: answers exchanged among the respondents of each reporting group
    /// of a round (each of at least the threshold) change no output of any command; the
    /// same exchange across two groups does change some (the outputs are not blind).
    @Test func answersExchangedWithinAReportingGroupChangeNoOutput() throws {
        let rows = Self.answerRows()
        let a = try workspace(rows)
        defer { a.remove() }
        let view = try operatorView(a)
        var exchanged = rows
        var groups: [[String]] = []
        for q in 0..<3 {
            // The groups stored with the answers tell which reading Pulse used.
            let h = try #require(Self.hypotheses(cells: view.cells[q], stored: view.stored[q]).first)
            let atoms = Dictionary(grouping: h.keys.sorted(), by: { h[$0]! }).values.map { $0.sorted() }
            groups += atoms
            for atom in atoms where atom.count > 1 {
                // Each answer row moves to the next rep of its group: every small cell's rep gets another's answer.
                for (i, rep) in atom.enumerated() { exchanged[q][rep] = rows[q][atom[(i + 1) % atom.count]] }
            }
        }
        #expect(groups.allSatisfy { $0.count >= Self.threshold }, "every reporting group holds at least the threshold: \(groups.map(\.count))")
        let b = try workspace(exchanged)
        defer { b.remove() }
        let (outA, _) = try collect(a), (outB, _) = try collect(b)
        let changed = outA.keys.filter { outA[$0] != outB[$0] }.sorted()
        // The control: solo0's and west0's answers of the first round exchanged.
        var across = rows
        across[0]["solo0@example.org"] = rows[0]["west0@example.org"]
        across[0]["west0@example.org"] = rows[0]["solo0@example.org"]
        let c = try workspace(across)
        defer { c.remove() }
        let (outC, _) = try collect(c)
        let changedAcross = outA.keys.filter { outA[$0] != outC[$0] }.count
        print("exchange: answers exchanged within \(groups.count) reporting groups of \(groups.map(\.count).min() ?? 0) or more changed \(changed.count) of \(outA.count) outputs; across two groups, \(changedAcross)")
        #expect(changed.isEmpty, "changed: \(changed.prefix(5))")
        #expect(changedAcross > 0 || rows[0]["solo0@example.org"] == rows[0]["west0@example.org"])
    }
}
