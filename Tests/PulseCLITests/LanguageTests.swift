import Foundation
import PulseCore
import Testing

/// Mail as a fluent reader of each language gets it: greeted by the name they go by, the
/// period named in words, dates written the way of their country with the time and the
/// zone, the eNPS scale's ends in both parts, as the survey labels them. Through the
/// built binary and Python's email package.
@Suite(.timeLimit(.minutes(5))) struct LanguageTests {
    static let roster = """
        email,name,preferred_name,team,manager_email,region,locale,timezone
        aina@example.org,Nur Aina,,smb,lead@example.org,APAC,ms,Asia/Kuala_Lumpur
        mei@example.org,Mei Lin Tan,Mei Lin,smb,lead@example.org,APAC,en,Asia/Kuala_Lumpur
        emily@example.org,Emily Chen,,smb,lead@example.org,APAC,en,Asia/Kuala_Lumpur
        tom@example.org,"O'Brien, Tom",,west,lead@example.org,EMEA,en,Europe/London
        jo@example.org,Jo Park,,west,lead@example.org,US,en,Europe/London
        sam@example.org,Sam Lee,,west,lead@example.org,EMEA,en-GB,America/New_York
        kim@example.org,Kim Diaz,,west,lead@example.org,AMER,en,America/Chicago
        somchai@example.org,สมชาย ใจดี,,east,lead@example.org,APAC,th,Asia/Bangkok
        anna@example.org,Анна Петрова,,east,lead@example.org,EMEA,ru,Europe/Moscow

        """

    func workspace() throws -> Workspace {
        let w = try Workspace()
        #expect(try w.pulse("init").status == 0)
        try w.write("pulse.yaml", "organization: Acme Sales\nbase_url: https://pulse.example.org\ntimezone: UTC\nmail:\n  transport: file\n  outbox_dir: \(w.path("outbox"))\n")
        try w.write("roster.csv", Self.roster)
        let r = try w.pulse("roster", "import", "roster.csv")
        #expect(r.status == 0, "\(r.stderr)")
        return w
    }

    func mailByRep(_ w: Workspace) throws -> [String: [String: Any]] {
        Dictionary(uniqueKeysWithValues: try readMail(w.path("outbox")).map { ($0["to"] as! String, $0) })
    }

    static let months = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
                         "October", "November", "December"]

    @Test func theGreetingUsesThePreferredNameOrTheWholeName() throws {
        let w = try workspace()
        defer { w.remove() }
        let sent = try w.pulse("send", "enps", "--period", TestClock.quarter)
        #expect(sent.status == 0, "\(sent.stderr)")
        let mail = try mailByRep(w)
        let greetings = ["aina": "Hai Nur Aina,", "mei": "Hi Mei Lin,", "emily": "Hi Emily Chen,", "tom": "Hi Tom,",
                         "somchai": "สวัสดี สมชาย ใจดี", "anna": "Здравствуйте, Анна Петрова!"]
        for (rep, greeting) in greetings {
            let m = try #require(mail["\(rep)@example.org"])
            let first = (m["text"] as? String)?.split(whereSeparator: \.isNewline).first.map(String.init)
            #expect(first == greeting, "\(rep): \(m["text"] ?? "")")
            #expect((m["html"] as? String)?.contains(">\(greeting)</p>") == true, "\(rep)")
        }
        // The header keeps the roster's name.
        #expect(mail["mei@example.org"]?["to_name"] as? String == "Mei Lin Tan")
    }

    /// Subjects name the quarter or week in words, with no period code and one pair of
    /// brackets at most (the title's own "(eNPS)").
    @Test func subjectsNameThePeriodInTheReadersLanguage() throws {
        let w = try workspace()
        defer { w.remove() }
        #expect(try w.pulse("send", "enps", "--period", TestClock.quarter).status == 0)
        guard case let .quarter(year, q) = Period(TestClock.quarter)! else { Issue.record("not a quarter"); return }
        let mail = try mailByRep(w)
        let expected = [
            "tom": "Employee Net Promoter Score – Q\(q) \(year): one minute",
            "somchai": "คะแนนการแนะนำสุทธิของพนักงาน (eNPS) – ไตรมาสที่ \(q) ปี \(year + 543): ใช้เวลาหนึ่งนาที",
            "aina": "Skor Promoter Bersih Pekerja (eNPS) – suku tahun \(["pertama", "kedua", "ketiga", "keempat"][q - 1]) \(year): satu minit",
            "anna": "Индекс лояльности сотрудников (eNPS) – \(["I", "II", "III", "IV"][q - 1]) квартал \(year) г.: одна минута",
        ]
        for (rep, subject) in expected {
            #expect(mail["\(rep)@example.org"]?["subject"] as? String == subject, "\(rep): \(mail["\(rep)@example.org"]?["subject"] ?? "")")
        }
        for m in mail.values {
            let s = m["subject"] as! String
            #expect(!s.contains(TestClock.quarter) && s.filter { $0 == "(" }.count <= 1, "\(s)")
        }

        // A week: by its Monday, as the reader writes dates.
        #expect(try w.pulse("send", "weekly-pulse", "--period", TestClock.week()).status == 0)
        let weekly = try readMail(w.path("outbox")).filter { ($0["subject"] as? String)?.contains("Q\(q)") != true }
        func subject(_ rep: String) -> String? {
            weekly.first { $0["to"] as? String == "\(rep)@example.org" && !($0["subject"] as! String).contains("eNPS") }?["subject"] as? String
        }
        let (y, m, d) = TestClock.monday.parts
        #expect(subject("tom") == "Weekly pulse – week of \(d) \(Self.months[m - 1]) \(y): one minute", "\(subject("tom") ?? "")")
        #expect(subject("kim") == "Weekly pulse – week of \(Self.months[m - 1]) \(d), \(y): one minute", "\(subject("kim") ?? "")")
        #expect(subject("somchai")?.hasPrefix("แบบสำรวจประจำสัปดาห์ – สัปดาห์ที่เริ่มวันที่ \(d) ") == true
                && subject("somchai")?.contains(" \(y + 543): ") == true, "\(subject("somchai") ?? "")")
        #expect(subject("anna")?.hasPrefix("Еженедельный опрос – неделя с \(d) ") == true
                && subject("anna")?.contains(" \(y)") == true && subject("anna")?.hasSuffix("г.: одна минута") == true, "\(subject("anna") ?? "")")
        #expect(subject("aina")?.hasPrefix("Tinjauan mingguan – minggu bermula \(d) ") == true, "\(subject("aina") ?? "")")
    }

    /// The close date comes with its time and zone, in the date style of the rep's
    /// country: the locale's country, else a region that is a country code, else the
    /// time zone's country; never American for every English reader.
    @Test func closingDatesAreWrittenTheWayOfTheRepsCountry() throws {
        let w = try workspace()
        defer { w.remove() }
        #expect(try w.pulse("send", "enps", "--period", TestClock.quarter).status == 0)
        let mail = try mailByRep(w)
        func closes(_ rep: String) -> String {
            let text = mail["\(rep)@example.org"]?["text"] as? String ?? ""
            return text.split(whereSeparator: \.isNewline).first { $0.contains("closes") || $0.contains("ปิด") || $0.contains("ditutup") || $0.contains("закрывается") }
                .map(String.init) ?? "no closing line in: \(text)"
        }
        let month = "(?:" + Self.months.joined(separator: "|") + ")"
        let cases: [(String, Regex<Substring>)] = [
            // London, British: day first, 24-hour clock.
            ("tom", try Regex("^The survey closes on \\d{1,2} \(month) \\d{4} at \\d{2}:\\d{2} \\(Europe/London\\)\\.$")),
            // Region US: American whatever the zone.
            ("jo", try Regex("^The survey closes on \(month) \\d{1,2}, \\d{4} at \\d{1,2}:\\d{2}\\s[AP]M \\(Europe/London\\)\\.$")),
            // en-GB in the roster wins over a New York zone.
            ("sam", try Regex("^The survey closes on \\d{1,2} \(month) \\d{4} at \\d{2}:\\d{2} \\(America/New_York\\)\\.$")),
            // Kuala Lumpur: Malaysian English, day first and a 12-hour clock.
            ("emily", try Regex("^The survey closes on \\d{1,2} \(month) \\d{4} at \\d{1,2}:\\d{2}\\s[AP]M \\(Asia/Kuala_Lumpur\\)\\.$")),
            // Chicago: American.
            ("kim", try Regex("^The survey closes on \(month) \\d{1,2}, \\d{4} at \\d{1,2}:\\d{2}\\s[AP]M \\(America/Chicago\\)\\.$")),
            // Thai: Buddhist-era year, with the time.
            ("somchai", try Regex("^แบบสำรวจจะปิดในวันที่ \\d{1,2} \\S+ 25\\d\\d เวลา \\d{2}:\\d{2} \\(Asia/Bangkok\\)$")),
            ("anna", try Regex("^Опрос закрывается \\d{1,2} \\S+ \\d{4}\\sг\\. в \\d{2}:\\d{2} \\(Europe/Moscow\\)\\.$")),
        ]
        for (rep, pattern) in cases {
            #expect(closes(rep).wholeMatch(of: pattern) != nil, "\(rep): \(closes(rep))")
        }
    }

    /// The eNPS scale's ends are in the plain-text part as well as the HTML, and they are
    /// the survey's own labels: a label changed in the survey is the one the mail shows.
    @Test func theScaleEndsAreTheSurveysLabelsInBothParts() throws {
        let w = try workspace()
        defer { w.remove() }
        let yaml = try String(contentsOfFile: w.path("Surveys/enps.yaml"), encoding: .utf8)
        try w.write("Surveys/enps.yaml", yaml.replacingOccurrences(of: "        en: Not at all likely\n", with: "        en: Would not recommend it\n"))
        let sent = try w.pulse("send", "enps", "--period", TestClock.quarter)
        #expect(sent.status == 0, "\(sent.stderr)")
        let mail = try mailByRep(w)
        let ends = ["tom": ("0 = Would not recommend it", "10 = Extremely likely"), "somchai": ("0 = ไม่แนะนำเลย", "10 = แนะนำอย่างยิ่ง"),
                    "aina": ("0 = Langsung tidak mungkin", "10 = Sangat mungkin"), "anna": ("0 = Совсем маловероятно", "10 = Очень вероятно")]
        for (rep, (low, high)) in ends {
            let m = try #require(mail["\(rep)@example.org"])
            let text = try #require(m["text"] as? String), html = try #require(m["html"] as? String)
            let lines = text.split(whereSeparator: \.isNewline).map(String.init)
            // Low end above the eleven links, high end below them.
            let lowAt = lines.firstIndex(of: low), zeroAt = lines.firstIndex { $0.hasPrefix("  0  ") }
            let tenAt = lines.firstIndex { $0.hasPrefix("  10  ") }, highAt = lines.firstIndex(of: high)
            #expect(lowAt != nil && zeroAt != nil && tenAt != nil && highAt != nil, "\(rep): \(text)")
            if let lowAt, let zeroAt, let tenAt, let highAt { #expect(lowAt < zeroAt && tenAt < highAt, "\(rep): \(text)") }
            #expect(html.contains(">\(low)</td>") && html.contains(">\(high)</td>"), "\(rep): \(html)")
        }
        let tom = try #require(mail["tom@example.org"]?["text"] as? String)
        #expect(!tom.lowercased().contains("not at all likely"), "no built-in label beside the survey's")
    }

    /// `preferred_name` is an optional roster column: files without it import as before
    /// and leave it alone; list shows it.
    @Test func preferredNameIsAnOptionalRosterColumn() throws {
        let w = try workspace()
        defer { w.remove() }
        func rep(_ email: String) throws -> [String: Any]? {
            let list = try #require(try w.pulse("roster", "list", "--format", "json").json() as? [[String: Any]])
            return list.first { $0["email"] as? String == email }
        }
        #expect(try rep("mei@example.org")?["preferred_name"] as? String == "Mei Lin")
        #expect(try rep("aina@example.org")?["preferred_name"] is NSNull)
        try w.write("old.csv", "email,name,team\nmei@example.org,Mei Lin Tan,smb\nnew@example.org,New Rep,smb\n")
        let old = try w.pulse("roster", "import", "old.csv")
        #expect(old.status == 0 && !old.stderr.contains("preferred"), "\(old.stderr)")
        #expect(try rep("mei@example.org")?["preferred_name"] as? String == "Mei Lin", "a file without the column leaves it")
        let csv = try w.pulse("roster", "list", "--format", "csv")
        #expect(csv.stdout.hasPrefix("email,name,team,manager_email,region,locale,timezone,start_date,preferred_name,active\r\n"), "\(csv.stdout)")
        let table = try w.pulse("roster", "list", "--team", "smb")
        #expect(table.stdout.contains("greeted as") && table.stdout.contains("Mei Lin "), "\(table.stdout)")
    }

    /// `curl` against a running `pulse serve`: status, then the body.
    func fetch(_ url: String, headers: [String] = [], form: String? = nil) throws -> (status: Int, body: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        p.arguments = ["-s", "--max-time", "10", "-w", "\n%{http_code}"] + headers.flatMap { ["-H", $0] }
            + (form.map { ["--data", $0] } ?? []) + [url]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        let cut = text.lastIndex(of: "\n")!
        return (Int(text[text.index(after: cut)...]) ?? 0, String(text[..<cut]))
    }

    /// Through `pulse serve`: the 404 page in the browser's language by q-value, the
    /// period named on the page, and an answer imported before the link was used headed
    /// "Already answered" in the rep's language, not "Thank you".
    @Test func theServedPagesSpeakTheReadersLanguage() throws {
        let w = try workspace()
        defer { w.remove() }
        let server = try Server(w)
        defer { server.stop() }
        let base = "http://127.0.0.1:\(server.port)"
        // A threshold of 3: an import brings anonymous answers in batches of at least that.
        try w.write("pulse.yaml", "organization: Acme Sales\nbase_url: \(base)\ntimezone: UTC\nmin_group_size: 3\nmail:\n  transport: file\n  outbox_dir: \(w.path("outbox"))\n")
        #expect(try w.pulse("send", "enps", "--period", TestClock.quarter).status == 0)
        for (header, lang, heading) in [("", "en", "Page not found"), ("Accept-Language: th-TH,th;q=0.9,en;q=0.8", "th", "ไม่พบหน้านี้"),
                                        ("Accept-Language: en;q=0.5, ru", "ru", "Страница не найдена"),
                                        ("Accept-Language: fr, ms;q=0.7, en;q=0.8", "en", "Page not found"),
                                        ("Accept-Language: de, ms;q=0.1", "ms", "Halaman tidak ditemui")] {
            let r = try fetch("\(base)/s/not-a-token", headers: header.isEmpty ? [] : [header])
            #expect(r.status == 404 && r.body.contains("<html lang=\"\(lang)\">") && r.body.contains("<h1>\(heading)</h1>"), "\(header): \(r.body)")
        }
        let mail = try mailByRep(w)
        func link(_ rep: String) throws -> String {
            let text = try #require(mail["\(rep)@example.org"]?["text"] as? String)
            return try #require(text.split(whereSeparator: \.isNewline).first { $0.hasPrefix("\(base)/s/") && !$0.contains("/enps/") }).description
        }
        guard case let .quarter(year, q) = Period(TestClock.quarter)! else { Issue.record("not a quarter"); return }
        let page = try fetch(try link("somchai"))
        #expect(page.status == 200 && page.body.contains("<p class=\"period\">ไตรมาสที่ \(q) ปี \(year + 543)</p>"), "\(page.body)")
        // Answers for Tom, Anna and Somchai collected elsewhere, imported by their links' tokens.
        let tokens = try ["tom", "anna", "somchai"].map { try link($0).components(separatedBy: "/s/").last! }
        try w.write("answers.csv", "token,survey,period,enps\n" + tokens.map { "\($0),enps,\(TestClock.quarter),9\n" }.joined())
        let imported = try w.pulse("responses", "import", "answers.csv")
        #expect(imported.status == 0, "\(imported.stderr)")
        for (rep, heading) in [("tom", "Already answered"), ("anna", "Ответ уже есть")] {
            let r = try fetch(try link(rep), form: "enps=7")
            #expect(r.status == 409 && r.body.contains("<h1>\(heading)</h1>") && !r.body.contains("Thank you") && !r.body.contains("Спасибо"),
                    "\(rep): \(r.status) \(r.body)")
        }
    }
}
