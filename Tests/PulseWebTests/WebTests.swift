import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PulseCore
import Testing
@testable import PulseStore
@testable import PulseWeb

/// Every route and error of the answer pages, through Hummingbird's test client, over a
/// real (in-memory) database.
@Suite struct WebTests {
    let now = Date(timeIntervalSince1970: 1_795_430_000) // 2026-11-23
    let key = TokenKey(bytes: Data(repeating: 3, count: 32))

    struct Seeded {
        var db: AppDatabase
        var tokens: [String: String] // email → token
    }

    /// Four reps, one round of the shipped survey `survey` open for a week.
    func seeded(_ yaml: String = DefaultSurveys.enps, period: String = "2026-Q4", db given: AppDatabase? = nil) throws -> Seeded {
        let db = try given ?? AppDatabase.inMemory()
        _ = try db.importRoster(try CSVReader(bytes: Array("""
            email,name,team,locale,timezone
            somchai@example.org,สมชาย ใจดี,east,th,Asia/Bangkok
            anna@example.org,Анна Петрова,east,ru,Europe/Moscow
            tom@example.org,Tom Hale,west,en,Europe/London
            amy@example.org,Amy Hale,west,en,Europe/London

            """.utf8), file: "roster.csv"), now: now)
        let survey = try SurveyDefinition.load(yaml: yaml, file: "s.yaml")
        var tokens: [String: String] = [:]
        _ = try db.queueInvitations(survey: survey, period: Period(period)!, team: nil, closesAt: now.addingTimeInterval(7 * 86_400),
                                    key: key, now: now, dryRun: false) { draft in
            tokens[draft.rep.email] = draft.token
            return RenderedMessage(messageID: "m\(draft.invitationID)@x", sender: "p@x.example", recipient: draft.rep.email,
                                   subject: "s", data: Data("x".utf8))
        }
        return Seeded(db: db, tokens: tokens)
    }

    /// - Parameter failureDelay: how long a failed look-up over the limit waits (none by
    ///   default, so that the fuzz test's many bad paths do not wait).
    /// - Parameter held: receives where the app holds anonymous answers, for a test to
    ///   write them (`stop()`) before it reads the database.
    func app(_ db: AppDatabase, maxFailures: Int = 30, failureDelay: TimeInterval = 0, minGroupSize: Int = 5,
             held: HeldBox? = nil,
             clock: @escaping @Sendable () -> Date = { Date(timeIntervalSince1970: 1_795_440_000) })
        throws -> some ApplicationProtocol {
        var settings = WebSettings(database: db, key: key, organization: "Acme <Sales>", minGroupSize: minGroupSize, clock: clock,
                                   maxBody: 16 * 1024, maxFailures: maxFailures)
        settings.failureDelay = failureDelay
        held?.answers = settings.anonymousAnswers
        return Application(router: try WebApp.router(settings))
    }

    final class HeldBox: @unchecked Sendable {
        var answers: AnonymousAnswers?
        /// Writes what is held, as a stop of `serve` does.
        func write() async throws { _ = try await answers!.stop() }
    }

    func form(_ fields: [(String, String)]) -> ByteBuffer {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let body = fields.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed)!)" }.joined(separator: "&")
        return ByteBuffer(string: body)
    }

    static let formHeaders: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]

    func responses(_ db: AppDatabase) throws -> [Row] {
        try db.dbWriter.read { db in try Row.fetchAll(db, sql: "SELECT * FROM response ORDER BY id") }
    }

    func answeredCount(_ db: AppDatabase) throws -> Int? {
        try db.dbWriter.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM invitation WHERE answered") }
    }

    func answers(_ db: AppDatabase) throws -> [String: String] {
        try db.dbWriter.read { db in
            var out: [String: String] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT question_id, number, text FROM answer") {
                out[row["question_id"]] = (row["number"] as Int?).map(String.init) ?? row["text"]
            }
            return out
        }
    }

    @Test func healthAndSecurityHeaders() async throws {
        let s = try seeded()
        try await app(s.db).test(.router) { client in
            try await client.execute(uri: "/healthz", method: .get) { r in
                #expect(r.status == .ok && String(buffer: r.body) == "ok\n")
                #expect(r.headers[.contentSecurityPolicy]?.contains("default-src 'none'") == true)
                #expect(r.headers[.contentSecurityPolicy]?.contains("frame-ancestors 'none'") == true)
                #expect(r.headers[.referrerPolicy] == "no-referrer" && r.headers[.xContentTypeOptions] == "nosniff")
            }
            try await client.execute(uri: "/static/pulse.css", method: .get) { r in
                #expect(r.status == .ok && r.headers[.contentType]?.hasPrefix("text/css") == true)
            }
        }
    }

    @Test func unknownAndMalformedTokensGetTheSamePlain404() async throws {
        let s = try seeded()
        let real = s.tokens["tom@example.org"]!
        let wrong = String(real.dropLast()) + (real.last == "A" ? "B" : "A")
        try await app(s.db).test(.router) { client in
            var bodies: [String] = []
            for uri in ["/s/\(wrong)", "/s/short", "/s/\(real)x", "/s/%3Cscript%3E", "/s/\(wrong)/enps/9"] {
                try await client.execute(uri: uri, method: .get) { r in
                    #expect(r.status == .notFound, "\(uri)")
                    bodies.append(String(buffer: r.body))
                }
            }
            #expect(Set(bodies).count == 1, "the page says nothing about which tokens exist")
            #expect(!bodies[0].contains("script"))
            try await client.execute(uri: "/s/\(wrong)", method: .post, headers: Self.formHeaders, body: form([("enps", "9")])) { r in
                #expect(r.status == .notFound)
            }
        }
        #expect(try responses(s.db).isEmpty)
    }

    @Test func thePageIsInTheRepsLanguageAndSaysWhoSees() async throws {
        let s = try seeded()
        try await app(s.db).test(.router) { client in
            try await client.execute(uri: "/s/\(s.tokens["somchai@example.org"]!)", method: .get) { r in
                let html = String(buffer: r.body)
                #expect(r.status == .ok)
                #expect(html.contains("<html lang=\"th\">"))
                #expect(html.contains("คุณมีแนวโน้มจะแนะนำบริษัทนี้"), "the question in Thai")
                #expect(html.contains("ใครเห็นคำตอบของคุณ:") && html.contains("อย่างน้อย 5 คน"), "anonymous, with the threshold")
                #expect((0...10).allSatisfy { html.contains("id=\"q-enps-\($0)\" value=\"\($0)\" required") })
                #expect(html.contains("<label for=\"q-enps-9\">9</label>"), "each choice has its label")
                #expect(html.contains("<label for=\"q-enps-10\">10<span class=\"visually-hidden\">, แนะนำอย่างยิ่ง</span></label>"),
                        "an end point's label says what the end means")
                #expect(html.contains("<legend>") && html.contains("<fieldset"))
                #expect(html.contains("Acme &lt;Sales&gt;"), "configuration text is escaped too")
                #expect(!html.contains("<script"), "no script at all")
                #expect(!html.contains(" checked"), "nothing chosen yet")
            }
        }
    }

    @Test func aMailLinkPreselectsTheScoreAndStoresNothing() async throws {
        let s = try seeded()
        let token = s.tokens["tom@example.org"]!
        try await app(s.db).test(.router) { client in
            try await client.execute(uri: "/s/\(token)/enps/9", method: .get) { r in
                let html = String(buffer: r.body)
                #expect(r.status == .ok)
                #expect(html.contains("value=\"9\" checked"))
                #expect(!html.contains("value=\"8\" checked"))
            }
            for bad in ["11", "-1", "x"] {
                try await client.execute(uri: "/s/\(token)/enps/\(bad)", method: .get) { r in #expect(r.status == .notFound) }
            }
        }
        #expect(try responses(s.db).isEmpty, "a GET never answers for the rep")
    }

    /// An anonymous answer is stored with no rep, no time and nothing a token or the key
    /// file computes; afterwards the link says it is recorded and shows none of it, to the
    /// rep or to whoever else holds the link, and a second answer changes nothing.
    /// Until it is written (in a batch, here at the stop, the threshold being 1), the
    /// answer is only held: nothing of it is in the database, and the link says recorded.
    @Test func anAnonymousAnswerIsStoredWithoutRepOrTimeAndNeverShownAgain() async throws {
        let s = try seeded()
        let token = s.tokens["tom@example.org"]!
        let settings = WebSettings(database: s.db, key: key, organization: "Acme", minGroupSize: 1,
                                   clock: { Date(timeIntervalSince1970: 1_795_440_000) })
        try await Application(router: try WebApp.router(settings)).test(.router) { client in
            try await client.execute(uri: "/s/\(token)", method: .post, headers: Self.formHeaders,
                                     body: form([("enps", "9"), ("reason", "<script>alert('x')</script> great team")])) { r in
                let html = String(buffer: r.body)
                #expect(r.status == .ok)
                #expect(html.contains("Thank you") && html.contains("Your answer is recorded") && !html.contains("Change my answers"), "\(html)")
            }
            #expect(try responses(s.db).isEmpty, "held, not written: a batch needs twice the threshold")
            #expect(try answeredCount(s.db) == 0)
            // The link shows none of the answer: not the score, not the reason.
            for uri in ["/s/\(token)", "/s/\(token)/enps/3"] {
                try await client.execute(uri: uri, method: .get) { r in
                    let html = String(buffer: r.body)
                    #expect(r.status == .ok && html.contains("<h1>Already answered</h1>") && html.contains("cannot be changed"), "\(html)")
                    #expect(!html.contains("checked") && !html.contains("great team") && !html.contains("<form"), "\(uri): \(html)")
                }
            }
            // A second answer is refused and changes nothing.
            try await client.execute(uri: "/s/\(token)", method: .post, headers: Self.formHeaders,
                                     body: form([("enps", "6"), ("reason", "")])) { r in #expect(r.status == .conflict) }
        }
        #expect(try await settings.anonymousAnswers.stop() == AnonymousAnswers.StopSummary(written: 1, released: 0))
        let rows = try responses(s.db)
        #expect(rows.count == 1)
        #expect(rows[0]["rep_id"] == nil && rows[0]["submitted_at"] == nil, "no rep, no time")
        #expect(rows[0]["edit_key"] == nil, "nothing that finds the answer again")
        #expect(rows[0]["team"] as String? == "west" && rows[0]["enps"] as Int? == 9)
        #expect(try answeredCount(s.db) == 1)
        #expect(try answers(s.db)["enps"] == "9")
    }

    /// Pages are rendered once per round and language and filled per request: nothing of
    /// one rep's page may show on another's.
    @Test func eachRepSeesOnlyTheirOwnLinkAndAnswers() async throws {
        let s = try seeded(DefaultSurveys.weeklyPulse, period: "2026-W48")
        let ann = s.tokens["anna@example.org"]!, tom = s.tokens["tom@example.org"]!, amy = s.tokens["amy@example.org"]!
        try await app(s.db).test(.router) { client in
            try await client.execute(uri: "/s/\(tom)", method: .get) { _ in }
            try await client.execute(uri: "/s/\(tom)", method: .post, headers: Self.formHeaders,
                                     body: form([("energy", "2"), ("workload", "3"), ("support", "4"), ("quota_confidence", "5"),
                                                 ("comment", "Tom's & <secret>")])) { r in #expect(r.status == .ok) }
            try await client.execute(uri: "/s/\(tom)", method: .get) { r in
                let html = String(buffer: r.body)
                #expect(html.contains("action=\"/s/\(tom)\"") && html.contains("id=\"q-energy-2\" value=\"2\" checked"))
                #expect(html.contains("Tom&#39;s &amp; &lt;secret&gt;</textarea>"))
            }
            // Another rep of the same round, language and time zone (the same cached page), and one in Russian.
            for (token, other) in [(amy, tom), (ann, tom)] {
                try await client.execute(uri: "/s/\(token)", method: .get) { r in
                    let html = String(buffer: r.body)
                    #expect(html.contains("action=\"/s/\(token)\"") && !html.contains(other))
                    #expect(!html.contains(" checked") && !html.contains("secret"))
                }
            }
        }
    }

    /// A GET of a page is one query: the invitation with its round, its rep and the rep's
    /// answers together; the survey's definition is read once per version and kept.
    @Test func aPageIsOneQuery() async throws {
        final class Selects: @unchecked Sendable {
            let lock = NSLock()
            var sql: [String] = []
            func add(_ s: String) { lock.withLock { sql.append(s) } }
            func take() -> [String] { lock.withLock { defer { sql = [] }; return sql } }
        }
        let selects = Selects()
        var config = Configuration()
        config.foreignKeysEnabled = true
        config.prepareDatabase { db in
            db.trace { event in
                if case let .statement(s) = event, s.sql.hasPrefix("SELECT") { selects.add(s.sql) }
            }
        }
        let s = try seeded(DefaultSurveys.weeklyPulse, period: "2026-W48", db: AppDatabase(DatabaseQueue(configuration: config)))
        let tom = s.tokens["tom@example.org"]!, amy = s.tokens["amy@example.org"]!
        try await app(s.db).test(.router) { client in
            try await client.execute(uri: "/s/\(tom)", method: .post, headers: Self.formHeaders,
                                     body: form([("energy", "2"), ("workload", "3"), ("support", "4"), ("quota_confidence", "5"),
                                                 ("comment", "two answers")])) { r in #expect(r.status == .ok) }
            _ = selects.take()
            try await client.execute(uri: "/s/\(tom)", method: .get) { r in
                #expect(String(buffer: r.body).contains("two answers</textarea>"))
            }
            let first = selects.take()
            #expect(first.count == 1, "\(first)")
            try await client.execute(uri: "/s/\(amy)", method: .get) { r in #expect(r.status == .ok) }
            try await client.execute(uri: "/s/\(tom)/enps/9", method: .get) { r in #expect(r.status == .notFound) }
            let more = selects.take()
            #expect(more.count == 2 && Set(more).count == 1, "one statement per GET, the same one: \(more)")
        }
    }

    @Test func badAnswersAreShownAgainAndNothingIsStored() async throws {
        let s = try seeded(DefaultSurveys.weeklyPulse, period: "2026-W48")
        let token = s.tokens["anna@example.org"]!
        try await app(s.db).test(.router) { client in
            try await client.execute(uri: "/s/\(token)", method: .post, headers: Self.formHeaders,
                                     body: form([("energy", "4"), ("workload", "9"), ("comment", "мой комментарий")])) { r in
                let html = String(buffer: r.body)
                #expect(r.status == .unprocessableContent)
                #expect(html.contains("9 is out of range"))
                #expect(html.contains("Пожалуйста, ответьте на этот вопрос."), "missing answers, in Russian")
                #expect(html.contains("value=\"4\" checked"), "what was chosen stays chosen")
                #expect(html.contains("мой комментарий"))
            }
            let big = String(repeating: "x", count: 1_000_000)
            try await client.execute(uri: "/s/\(token)", method: .post, headers: Self.formHeaders,
                                     body: form([("energy", "4"), ("comment", big)])) { r in
                #expect(r.status == .contentTooLarge)
            }
            try await client.execute(uri: "/s/\(token)", method: .post, headers: Self.formHeaders,
                                     body: form([("energy", "4"), ("workload", "3"), ("support", "5"), ("quota_confidence", "2"),
                                                 ("comment", String(repeating: "y", count: 5001))])) { r in
                #expect(r.status == .unprocessableContent)
            }
        }
        #expect(try responses(s.db).isEmpty)
    }

    @Test func anIdentifiedAnswerKeepsItsRepAndTime() async throws {
        let s = try seeded(DefaultSurveys.weeklyPulse, period: "2026-W48")
        let token = s.tokens["anna@example.org"]!
        let answers = [("energy", "4"), ("workload", "3"), ("support", "5"), ("quota_confidence", "2")]
        try await app(s.db).test(.router) { client in
            try await client.execute(uri: "/s/\(token)", method: .post, headers: Self.formHeaders, body: form(answers)) { r in
                #expect(r.status == .ok)
                #expect(String(buffer: r.body).contains("Спасибо"))
            }
        }
        let rows = try responses(s.db)
        #expect(rows.count == 1 && rows[0]["rep_id"] as Int64? != nil && rows[0]["submitted_at"] as String? != nil)
        #expect(rows[0]["morale"] as Double? == (75 + 50 + 100 + 25) / 4.0)
        // The answer is in the rollup of answers, in its transaction; a changed answer replaces it there too.
        var check = try s.db.rollupCheck()
        #expect(check.differences.isEmpty && check.responseGroups == 1, "\(check)")
        try await app(s.db).test(.router) { client in
            try await client.execute(uri: "/s/\(token)", method: .post, headers: Self.formHeaders,
                                     body: form([("energy", "1"), ("workload", "3"), ("support", "5"), ("quota_confidence", "2")])) { r in
                #expect(r.status == .ok)
            }
        }
        check = try s.db.rollupCheck()
        #expect(check.differences.isEmpty && check.responseGroups == 1, "\(check)")
        let nano: Int64? = try await s.db.dbWriter.read { db in try Int64.fetchOne(db, sql: "SELECT morale_nano FROM response_group") }
        let morale: Double = (0 + 50 + 100 + 25) / 4.0
        #expect(nano == Int64(morale * 1e9))
    }

    /// Two posts at once to an anonymous survey: one is stored (200), the other finds it
    /// answered (409).
    @Test func twoPostsAtOnceLeaveOneAnswer() async throws {
        let s = try seeded()
        let token = s.tokens["anna@example.org"]!
        let statuses = Statuses()
        let held = HeldBox()
        try await app(s.db, minGroupSize: 1, held: held).test(.router) { client in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for score in ["3", "10"] {
                    group.addTask {
                        try await client.execute(uri: "/s/\(token)", method: .post, headers: Self.formHeaders,
                                                 body: self.form([("enps", score)])) { r in statuses.add(r.status.code) }
                    }
                }
                try await group.waitForAll()
            }
        }
        #expect(statuses.all.sorted() == [200, 409], "\(statuses.all)")
        try await held.write()
        #expect(try responses(s.db).count == 1)
    }

    final class Statuses: @unchecked Sendable {
        private let lock = NSLock()
        private var codes: [Int] = []
        func add(_ code: Int) { lock.withLock { codes.append(code) } }
        var all: [Int] { lock.withLock { codes } }
    }

    @Test func aClosedRoundSaysSo() async throws {
        let s = try seeded()
        let token = s.tokens["tom@example.org"]!
        // After the closing time, and after an explicit close.
        let late = try app(s.db, clock: { Date(timeIntervalSince1970: 1_795_430_000 + 8 * 86_400) })
        try await late.test(.router) { client in
            try await client.execute(uri: "/s/\(token)", method: .get) { r in
                #expect(r.status == .gone && String(buffer: r.body).contains("This survey is closed"))
            }
        }
        _ = try s.db.closeRound(survey: "enps", period: Period("2026-Q4")!, now: now)
        try await app(s.db).test(.router) { client in
            try await client.execute(uri: "/s/\(token)", method: .post, headers: Self.formHeaders, body: form([("enps", "9")])) { r in
                #expect(r.status == .gone)
            }
        }
        #expect(try responses(s.db).isEmpty)
    }

    /// The waits a server made, in order.
    final class Waits: @unchecked Sendable {
        private let lock = NSLock()
        private var _all: [TimeInterval] = []
        var all: [TimeInterval] { lock.withLock { _all } }
        func add(_ s: TimeInterval) { lock.withLock { _all.append(s) } }
    }

    /// Reps behind one office NAT, or a proxy started without `--trust-proxy`, share an
    /// address: a valid link opens from it, never made to wait, whatever failed before;
    /// only the failed look-ups past the limit wait before their 429.
    @Test func aValidLinkAlwaysOpensAndFailedLookUpsOverTheLimitWait() async throws {
        let s = try seeded()
        let token = s.tokens["tom@example.org"]!
        let waits = Waits()
        var settings = WebSettings(database: s.db, key: key, organization: "Acme", minGroupSize: 1,
                                   clock: { Date(timeIntervalSince1970: 1_795_440_000) })
        settings.failureDelay = 0.5
        settings.pause = { seconds in
            waits.add(seconds)
            try? await Task.sleep(for: .seconds(seconds))
        }
        let clock = ContinuousClock()
        try await Application(router: try WebApp.router(settings)).test(.router) { client in
            for _ in 0..<30 {
                try await client.execute(uri: "/s/nope", method: .get) { r in #expect(r.status == .notFound) }
            }
            #expect(waits.all.isEmpty, "the first 30 failures are answered at once")
            for round in 1...2 {
                try await client.execute(uri: "/s/\(token)", method: .get) { r in #expect(r.status == .ok) }
                try await client.execute(uri: "/s/\(token)/enps/9", method: .get) { r in #expect(r.status == .ok) }
                // The first answer is stored; the second finds it answered (an anonymous survey).
                try await client.execute(uri: "/s/\(token)", method: .post, headers: Self.formHeaders, body: form([("enps", "9")])) { r in
                    #expect(r.status == (round == 1 ? .ok : .conflict))
                }
                #expect(waits.all.count == round - 1, "a valid link never waits")
                // A failed look-up from that address now waits, and says why.
                let started = clock.now
                try await client.execute(uri: "/s/\(String(repeating: "A", count: 43))", method: .get) { r in
                    #expect(r.status == .tooManyRequests)
                    #expect(r.headers[.retryAfter].flatMap { Int($0) }.map { (1...600).contains($0) } == true)
                }
                #expect(clock.now - started >= .seconds(0.5))
                #expect(waits.all == Array(repeating: 0.5, count: round))
            }
        }
        _ = try await settings.anonymousAnswers.stop()
        #expect(try answers(s.db) == ["enps": "9"])
    }

    @Test func behindATrustedProxyTheForwardedAddressIsLimited() async throws {
        let s = try seeded()
        var settings = WebSettings(database: s.db, key: key, organization: "Acme", minGroupSize: 5,
                                   clock: { Date(timeIntervalSince1970: 1_795_440_000) }, maxFailures: 2)
        // The router test client has no peer address: "unknown" plays the proxy.
        settings.trustedProxies = ["unknown"]
        try await Application(router: try WebApp.router(settings)).test(.router) { client in
            for _ in 0..<2 {
                try await client.execute(uri: "/s/nope", method: .get, headers: [HTTPField.Name("X-Forwarded-For")!: "203.0.113.9"]) { r in
                    #expect(r.status == .notFound)
                }
            }
            try await client.execute(uri: "/s/nope", method: .get, headers: [HTTPField.Name("X-Forwarded-For")!: "203.0.113.9"]) { r in
                #expect(r.status == .tooManyRequests)
            }
            // Another client behind the same proxy is not locked out.
            try await client.execute(uri: "/s/\(s.tokens["tom@example.org"]!)", method: .get,
                                     headers: [HTTPField.Name("X-Forwarded-For")!: "198.51.100.7"]) { r in
                #expect(r.status == .ok)
            }
        }
    }

    @Test func aBodyThatIsNotAFormIsRefused() async throws {
        let s = try seeded()
        let token = s.tokens["tom@example.org"]!
        let held = HeldBox()
        try await app(s.db, minGroupSize: 1, held: held).test(.router) { client in
            for body in ["enps=9&reason=%ZZ", "enps=9&enps=10"] {
                try await client.execute(uri: "/s/\(token)", method: .post, headers: Self.formHeaders,
                                         body: ByteBuffer(string: body)) { r in
                    #expect(r.status == .badRequest, "\(body)")
                }
            }
            // Percent-escapes and + decode as a browser means them.
            try await client.execute(uri: "/s/\(token)", method: .post, headers: Self.formHeaders,
                                     body: ByteBuffer(string: "enps=9&reason=%E0%B8%94%E0%B8%B5+a%26b")) { r in
                #expect(r.status == .ok)
            }
        }
        try await held.write()
        #expect(try answers(s.db) == ["enps": "9", "reason": "ดี a&b"])
    }

    /// Only what a browser's form sends is read: another content type, or a body that
    /// is not `name=value` pairs, gets 400 and stores nothing.
    @Test func aPostWhoseBodyIsNotAFormGets400() async throws {
        let s = try seeded()
        let token = s.tokens["tom@example.org"]!
        let held = HeldBox()
        try await app(s.db, minGroupSize: 1, held: held).test(.router) { client in
            let refused: [(HTTPFields, String)] = [
                ([.contentType: "application/json"], #"{"enps": 9}"#),
                (Self.formHeaders, #"{"enps": 9}"#),
                ([.contentType: "text/plain"], "enps=9"),
                ([:], "enps=9"),
                ([.contentType: "multipart/form-data; boundary=x"], "--x\r\nContent-Disposition: form-data; name=\"enps\"\r\n\r\n9\r\n--x--\r\n"),
                (Self.formHeaders, "enps=9&hello"),
            ]
            for (headers, body) in refused {
                try await client.execute(uri: "/s/\(token)", method: .post, headers: headers, body: ByteBuffer(string: body)) { r in
                    #expect(r.status == .badRequest, "\(headers) \(body)")
                }
            }
            #expect(try answers(s.db).isEmpty)
            try await client.execute(uri: "/s/\(token)", method: .post,
                                     headers: [.contentType: "application/x-www-form-urlencoded; charset=UTF-8"],
                                     body: ByteBuffer(string: "enps=9")) { r in
                #expect(r.status == .ok)
            }
        }
        try await held.write()
        #expect(try answers(s.db) == ["enps": "9"])
    }

    /// Random bodies, headers and paths at the answer pages (200 of them, more within
    /// `PULSE_FUZZ_SECONDS`, 2 by default): every one gets a deliberate answer, never a
    /// server error, and nothing but well-formed answers is stored.
    @Test func randomBodiesGetDeliberateAnswers() async throws {
        let s = try seeded()
        let token = s.tokens["tom@example.org"]!
        let seconds = Double(ProcessInfo.processInfo.environment["PULSE_FUZZ_SECONDS"] ?? "") ?? 2
        let pieces = ["enps=", "reason=", "&", "=", "%", "%2", "%ZZ", "%00", "%FF", "+", "9", "10", "11", "-1", "enps", "\u{0}",
                      "%E0%B8", "ไทย", "<script>", "a".padding(toLength: 300, withPad: "a", startingAt: 0), "edit=", "token=", "\r\n", ";"]
        let deadline = Date().addingTimeInterval(seconds)
        let held = HeldBox()
        try await app(s.db, minGroupSize: 1, held: held).test(.router) { client in
            var rng = SystemRandomNumberGenerator()
            var runs = 0
            // At least 200 requests, and more until the time is up: under a loaded test run
            // the first requests can wait long for a thread, so time alone is not a bound.
            while runs < 200 || Date() < deadline {
                let body = (0..<Int.random(in: 0...8, using: &rng)).map { _ in pieces.randomElement(using: &rng)! }.joined()
                let path = Bool.random(using: &rng) ? "/s/\(token)" : ["/s/\(token)x", "/s/", "/s/%00", "/s/\(token)/enps/99", "/s/../etc"].randomElement(using: &rng)!
                let headers: HTTPFields = Bool.random(using: &rng) ? Self.formHeaders : [.contentType: "text/plain"]
                try await client.execute(uri: path, method: .post, headers: headers, body: ByteBuffer(string: body)) { r in
                    // 409 once a random body happened to answer: the anonymous answer is recorded.
                    #expect([200, 400, 404, 405, 409, 410, 413, 415, 422, 429].contains(r.status.code), "\(path) \(body): \(r.status)")
                }
                runs += 1
            }
            #expect(runs >= 200)
        }
        try await held.write()
        for (question, value) in try answers(s.db) {
            if question == "enps" { #expect(Int(value).map { (0...10).contains($0) } == true, "\(value)") }
        }
    }
}

/// An answer store that forwards to SQLite and can hold a write back until released,
/// recording the size of each batch it is given.
final class GatedStore: AnswerStore, @unchecked Sendable {
    let inner: SQLiteAnswerStore
    private let lock = NSLock()
    private var _batches: [Int] = []
    private var gate: CheckedContinuation<Void, Never>?
    private var closed = false
    /// A batch holding this invitation fails whole.
    var refuse: Int64?

    init(_ db: AppDatabase) { inner = SQLiteAnswerStore(db) }

    var batches: [Int] { lock.withLock { _batches } }
    /// The next write waits until `open()`.
    func close() { lock.withLock { closed = true } }
    func open() { lock.withLock { closed = false; let g = gate; gate = nil; return g }?.resume() }
    var isHolding: Bool { lock.withLock { gate != nil } }

    func submitAnswers(_ batch: [AnswerSubmission]) async throws(PulseError) -> [WebAnswerOutcome] {
        lock.withLock { _batches.append(batch.count) }
        if lock.withLock({ closed }) {
            await withCheckedContinuation { c in lock.withLock { gate = c } }
        }
        if let refuse, batch.contains(where: { $0.invitation.id == refuse }) { throw .runtime("refused") }
        return try await inner.submitAnswers(batch)
    }

    func invitation(token: String) async throws(PulseError) -> Invitation? { try await inner.invitation(token: token) }
    func invitationAndAnswers(token: String) async throws(PulseError) -> (invitation: Invitation, answers: [String: AnswerValue]?)? {
        try await inner.invitationAndAnswers(token: token)
    }
    func holdAnonymousAnswer(_ invitation: Invitation, lease: String, expires: Date, promised: Int, renewing: Bool,
                             now: Date) async throws(PulseError) -> (outcome: WebAnswerOutcome, leaseAlive: Bool) {
        try await inner.holdAnonymousAnswer(invitation, lease: lease, expires: expires, promised: promised, renewing: renewing, now: now)
    }
    func writeHeldBatch(_ batch: [HeldAnswer], lease: String, threshold: Int) async throws(PulseError) -> Int {
        try await inner.writeHeldBatch(batch, lease: lease, threshold: threshold)
    }
    func discardHeldAnswers(_ held: [HeldAnswer], roundID: Int64) async throws(PulseError) {
        try await inner.discardHeldAnswers(held, roundID: roundID)
    }
    func releaseHolds(_ invitationIDs: [Int64], lease: String) async throws(PulseError) {
        try await inner.releaseHolds(invitationIDs, lease: lease)
    }
    func renewLease(_ id: String, expires: Date, now: Date, renewing: Bool) async throws(PulseError) -> Bool {
        try await inner.renewLease(id, expires: expires, now: now, renewing: renewing)
    }
    func endLease(_ id: String) async throws(PulseError) { try await inner.endLease(id) }
    func heldRoundStates(_ roundIDs: [Int64], now: Date) async throws(PulseError) -> [Int64: HeldRoundState] {
        try await inner.heldRoundStates(roundIDs, now: now)
    }
    func checkHealth() async throws(PulseError) { try await inner.checkHealth() }
}

/// Identified answers are written in group commits, each POST answered once its own
/// transaction has committed.
@Suite struct IdentifiedAnswersTests {
    let now = Date(timeIntervalSince1970: 1_795_430_000)

    func seeded(reps: Int) throws -> (db: AppDatabase, invitations: [Invitation]) {
        let db = try AppDatabase.inMemory()
        let rows = (1...reps).map { "r\($0)@x.org,Rep \($0),west" }.joined(separator: "\n")
        _ = try db.importRoster(try CSVReader(bytes: Array("email,name,team\n\(rows)\n".utf8), file: "r.csv"), now: now)
        var tokens: [String] = []
        _ = try db.queueInvitations(survey: try SurveyDefinition.load(yaml: DefaultSurveys.weeklyPulse, file: "s.yaml"),
                                    period: Period("2026-W48")!, team: nil, closesAt: now.addingTimeInterval(7 * 86_400),
                                    key: TokenKey(bytes: Data(repeating: 3, count: 32)), now: now, dryRun: false) { draft in
            tokens.append(draft.token)
            return RenderedMessage(messageID: "m\(draft.invitationID)@x", sender: "p@x.example", recipient: draft.rep.email,
                                   subject: "s", data: Data("x".utf8))
        }
        return (db, try tokens.map { try #require(try db.invitation(token: $0)) })
    }

    func answers(_ n: Int) -> [String: AnswerValue] {
        ["energy": .number(n % 5 + 1), "workload": .number(3), "support": .number(4), "quota_confidence": .number(2),
         "comment": .text("answer \(n)")]
    }

    func stored(_ db: AppDatabase) throws -> [String: String] {
        try db.dbWriter.read { db in
            Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: """
                SELECT p.email, a.text FROM response s JOIN rep p ON p.id = s.rep_id
                JOIN answer a ON a.response_id = s.id AND a.question_id = 'comment'
                """).map { ($0["email"] as String, $0["text"] as String) })
        }
    }

    @Test func answersThatArriveDuringAWriteGoInTheNextOne() async throws {
        let (db, invitations) = try seeded(reps: 12)
        let store = GatedStore(db)
        let writer = IdentifiedAnswers(store: store, maxBatch: 8)
        store.close()
        let now = self.now
        let answered = Counter()
        let outcomes = try await withThrowingTaskGroup(of: WebAnswerOutcome.self) { group in
            group.addTask {
                defer { answered.add() }
                return try await writer.submit(AnswerSubmission(invitations[0], answers: self.answers(0), now: now))
            }
            while !store.isHolding { try await Task.sleep(for: .milliseconds(1)) }
            for i in 1..<12 {
                group.addTask {
                    defer { answered.add() }
                    return try await writer.submit(AnswerSubmission(invitations[i], answers: self.answers(i), now: now))
                }
            }
            while writer.waiting < 11 { try await Task.sleep(for: .milliseconds(1)) }
            try await Task.sleep(for: .milliseconds(20))
            #expect(answered.value == 0, "no POST is answered while the write ahead of it has not committed")
            store.open()
            var all: [WebAnswerOutcome] = []
            for try await o in group { all.append(o) }
            return all
        }
        #expect(store.batches == [1, 8, 3], "one alone, then what waited, eight at a time")
        #expect(outcomes.count == 12 && outcomes.allSatisfy { $0 == .stored(firstTime: true) })
        let answers = try stored(db)
        #expect(answers.count == 12 && (0..<12).allSatisfy { answers[invitations[$0].rep.email] == "answer \($0)" })
    }

    @Test func aBatchThatFailsIsTriedAgainOneByOne() async throws {
        let (db, invitations) = try seeded(reps: 4)
        let store = GatedStore(db)
        let writer = IdentifiedAnswers(store: store)
        store.refuse = invitations[2].id
        store.close()
        let now = self.now
        let results = await withTaskGroup(of: (Int, Result<WebAnswerOutcome, PulseError>).self) { group in
            group.addTask { (0, await Self.result { () async throws(PulseError) in
                try await writer.submit(AnswerSubmission(invitations[0], answers: self.answers(0), now: now)) }) }
            while !store.isHolding { try? await Task.sleep(for: .milliseconds(1)) }
            for i in 1..<4 {
                group.addTask { (i, await Self.result { () async throws(PulseError) in
                    try await writer.submit(AnswerSubmission(invitations[i], answers: self.answers(i), now: now)) }) }
            }
            while writer.waiting < 3 { try? await Task.sleep(for: .milliseconds(1)) }
            store.open()
            var all: [Int: Result<WebAnswerOutcome, PulseError>] = [:]
            for await (i, r) in group { all[i] = r }
            return all
        }
        #expect(store.batches == [1, 3, 1, 1, 1])
        #expect(results[2] == .failure(.runtime("refused")))
        #expect([0, 1, 3].allSatisfy { results[$0] == .success(.stored(firstTime: true)) })
        #expect(Set(try stored(db).keys) == Set([0, 1, 3].map { invitations[$0].rep.email }))
    }

    static func result(_ body: () async throws(PulseError) -> WebAnswerOutcome) async -> Result<WebAnswerOutcome, PulseError> {
        do { return .success(try await body()) } catch { return .failure(error) }
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    func add() { lock.withLock { n += 1 } }
    var value: Int { lock.withLock { n } }
}
