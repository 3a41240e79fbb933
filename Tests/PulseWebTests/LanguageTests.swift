import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PulseCore
import Testing
@testable import PulseStore
@testable import PulseWeb

/// The pages' words in every language follow `docs/glossary.yaml`.
@Suite struct PageGlossaryTests {
    @Test func thePageStringsFollowTheGlossary() throws {
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let g = try Glossary(yaml: String(contentsOf: repo.appendingPathComponent("docs/glossary.yaml"), encoding: .utf8))
        let items = Glossary.items(ofTable: PageStrings.all, name: "PageStrings") + Glossary.items(ofTable: ErrorStrings.all, name: "ErrorStrings")
        #expect(items.count > 20)
        let problems = g.problems(in: items)
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
    }
}

extension WebTests {
    /// The 404 page of a link that opens nothing is in the browser's language: the best
    /// of Pulse's four by q-value, English otherwise; the same page for every bad link.
    @Test(arguments: [
        (nil, "en", "Page not found"),
        ("th-TH,th;q=0.9,en;q=0.8", "th", "ไม่พบหน้านี้"),
        ("en;q=0.5, ru", "ru", "Страница не найдена"),
        ("fr-CH, fr;q=0.9, ms;q=0.7, en;q=0.8", "en", "Page not found"),
        ("fr, ms;q=0.1", "ms", "Halaman tidak ditemui"),
        ("th;q=0, ru;q=0.2", "ru", "Страница не найдена"),
        ("ms-MY", "ms", "Halaman tidak ditemui"),
        ("*", "en", "Page not found"),
        ("de, ja", "en", "Page not found"),
    ] as [(String?, String, String)])
    func theNotFoundPageSpeaksTheBrowsersLanguage(header: String?, lang: String, heading: String) async throws {
        let s = try seeded()
        let real = s.tokens["tom@example.org"]!
        let wrong = String(real.dropLast()) + (real.last == "A" ? "B" : "A")
        var fields: HTTPFields = [:]
        if let header { fields[.acceptLanguage] = header }
        let headers = fields
        try await app(s.db).test(.router) { client in
            var bodies: Set<String> = []
            for uri in ["/s/\(wrong)", "/s/short", "/s/\(real)/enps/11"] {
                try await client.execute(uri: uri, method: .get, headers: headers) { r in
                    #expect(r.status == .notFound, "\(uri)")
                    #expect(r.headers[.vary] == "Accept-Language")
                    let html = String(buffer: r.body)
                    #expect(html.contains("<html lang=\"\(lang)\">") && html.contains("<h1>\(heading)</h1>"), "\(header ?? "none"): \(html)")
                    bodies.insert(html)
                }
            }
            #expect(bodies.count == 1, "one page for every link that opens nothing")
        }
    }

    /// The other refusals (400, 429) are in the browser's language too.
    @Test func refusalsSpeakTheBrowsersLanguage() async throws {
        let s = try seeded()
        let token = s.tokens["tom@example.org"]!
        try await app(s.db, maxFailures: 1).test(.router) { client in
            var headers: HTTPFields = [.acceptLanguage: "ru-RU,ru;q=0.9", .contentType: "text/plain"]
            try await client.execute(uri: "/s/\(token)", method: .post, headers: headers, body: ByteBuffer(string: "enps=9")) { r in
                #expect(r.status == .badRequest && String(buffer: r.body).contains("<h1>Неверный запрос</h1>"), "\(String(buffer: r.body))")
            }
            headers = [.acceptLanguage: "th"]
            for _ in 0..<2 {
                try await client.execute(uri: "/s/short", method: .get, headers: headers) { _ in }
            }
            try await client.execute(uri: "/s/short", method: .get, headers: headers) { r in
                #expect(r.status == .tooManyRequests && String(buffer: r.body).contains("<h1>มีคำขอมากเกินไป</h1>"), "\(String(buffer: r.body))")
            }
        }
    }

    /// An answer already recorded elsewhere gets its own heading, not "Thank you".
    @Test func alreadyAnsweredHasItsOwnHeading() async throws {
        let s = try seeded()
        try await s.db.dbWriter.write { db in try db.execute(sql: "UPDATE invitation SET answered = 1") }
        try await app(s.db).test(.router) { client in
            for (email, heading) in [("tom@example.org", "Already answered"), ("somchai@example.org", "มีคำตอบแล้ว"),
                                     ("anna@example.org", "Ответ уже есть")] {
                try await client.execute(uri: "/s/\(s.tokens[email]!)", method: .post, headers: Self.formHeaders,
                                         body: form([("enps", "9")])) { r in
                    let html = String(buffer: r.body)
                    #expect(r.status == .conflict)
                    #expect(html.contains("<h1>\(heading)</h1>") && !html.contains("Thank you") && !html.contains("ขอบคุณ"), "\(html)")
                }
            }
        }
    }

    /// The page names its period and writes its dates as the rep reads them: a quarter
    /// in Thai with its Buddhist-era year, British English dates for a rep in London.
    @Test func thePageNamesThePeriodAndDatesInTheRepsWay() async throws {
        let s = try seeded()
        try await app(s.db).test(.router) { client in
            try await client.execute(uri: "/s/\(s.tokens["somchai@example.org"]!)", method: .get) { r in
                let html = String(buffer: r.body)
                #expect(html.contains("<p class=\"period\">ไตรมาสที่ 4 ปี 2569</p>"), "\(html)")
                #expect(!html.contains("2026-Q4"))
            }
            try await client.execute(uri: "/s/\(s.tokens["tom@example.org"]!)", method: .get) { r in
                let html = String(buffer: r.body)
                #expect(html.contains("<p class=\"period\">Q4 2026</p>"), "\(html)")
                // 2026-11-23 10:33:20 UTC plus seven days, in London: day first, 24-hour clock.
                #expect(html.contains("Open until 30 November 2026 at 10:33."), "\(html)")
            }
            try await client.execute(uri: "/s/\(s.tokens["anna@example.org"]!)", method: .get) { r in
                #expect(String(buffer: r.body).contains("<p class=\"period\">IV квартал 2026 г.</p>"))
            }
        }
    }
}
