import Foundation
import PulseCore
import Testing
@testable import PulseMail
@testable import PulseStore

@Suite("MIME and composing")
struct MIMETests {
    /// Decodes quoted-printable (RFC 2045) independently of the encoder.
    func decodeQP(_ s: String) -> String {
        var bytes: [UInt8] = []
        let u = Array(s.replacingOccurrences(of: "=\r\n", with: "").utf8)
        var i = 0
        while i < u.count {
            if u[i] == UInt8(ascii: "="), i + 2 < u.count, let v = UInt8(String(decoding: u[i + 1...i + 2], as: UTF8.self), radix: 16) {
                bytes.append(v)
                i += 3
            } else {
                bytes.append(u[i])
                i += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test func quotedPrintableRoundTripsAndKeepsLinesShort() {
        let text = "สวัสดี นิรันดร์, " + String(repeating: "ทดสอบ = test ", count: 20) + "\nЗдравствуйте! trailing space \n.dot line\n"
        let qp = MIME.quotedPrintable(text)
        for line in qp.components(separatedBy: "\r\n") {
            #expect(line.utf8.count <= 76, "\(line)")
            #expect(!line.hasSuffix(" "), "a trailing space must be encoded")
            #expect(line.unicodeScalars.allSatisfy { $0.isASCII })
        }
        #expect(decodeQP(qp) == text.replacingOccurrences(of: "\n", with: "\r\n"))
    }

    @Test func headersAreEncodedAndCannotBeInjected() {
        let subject = MIME.encodeText("Еженедельный опрос (2026-W47): одна минута\r\nBcc: victim@example.com")
        #expect(!subject.contains("Bcc:"), "non-ASCII text is all inside encoded words")
        for line in subject.components(separatedBy: "\r\n") {
            #expect(line.utf8.count <= 76 - "Subject: ".count)
        }
        let words = subject.components(separatedBy: "\r\n ").map { w -> String in
            let b64 = w.dropFirst("=?UTF-8?B?".count).dropLast(2)
            return String(decoding: Data(base64Encoded: String(b64))!, as: UTF8.self)
        }
        #expect(words.joined() == "Еженедельный опрос (2026-W47): одна минута  Bcc: victim@example.com")
        #expect(MIME.encodeText("Plain\nX-Evil: 1") == "Plain X-Evil: 1")
        #expect(MIME.encodePhrase("Doe, \"JD\"") == #""Doe, \"JD\"""#)
        #expect(MailAddress(parsing: "a@x.example\r\nBcc: b@y") == nil)
        #expect(MailAddress(parsing: "Pulse <pulse@acme.example>") == MailAddress(name: "Pulse", address: "pulse@acme.example"))
    }

    @Test func dateIsRFC5322InEnglish() {
        let d = MIME.date(Date(timeIntervalSince1970: 0))
        #expect(d == "Thu, 01 Jan 1970 00:00:00 +0000")
    }

    func draft(locale: String?, anonymity: Anonymity, name: String = "Niran Sukjai") throws -> MessageDraft {
        let survey = try SurveyDefinition.load(yaml: anonymity == .anonymous ? DefaultSurveys.enps : DefaultSurveys.weeklyPulse,
                                               file: "s.yaml")
        let rep = Rep(email: "niran@acme.example", name: name, locale: locale, active: true)
        return MessageDraft(kind: .invitation, invitationID: 7, rep: rep, token: "TOKEN123", survey: survey,
                            period: Period("2026-Q4")!, closesAt: Date(timeIntervalSince1970: 1_795_000_000), reminderNumber: 0)
    }

    @Test func anonymousInvitationInThaiHasElevenLinksAndSaysWhoSees() throws {
        var config = PulseConfig()
        config.baseURL = "https://pulse.acme.example/"
        let composer = try MailComposer(config: config)
        let m = try composer.render(try draft(locale: "th", anonymity: .anonymous), now: Date(timeIntervalSince1970: 0))
        let raw = String(decoding: m.data, as: UTF8.self)
        #expect(raw.contains("Message-ID: <\(m.messageID)>\r\n"))
        #expect(raw.contains("MIME-Version: 1.0\r\n") && raw.contains("multipart/alternative"))
        #expect(raw.contains("To: =?UTF-8?B?") == false, "an ASCII name stays a quoted string")
        let html = decodeQP(raw.components(separatedBy: "Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")[1])
        for score in 0...10 { #expect(html.contains("https://pulse.acme.example/s/TOKEN123/enps/\(score)\"")) }
        #expect(html.contains("ไม่แสดงทีละคน"), "the anonymity note is in Thai")
        #expect(html.contains("อย่างน้อย 5 คน"), "the threshold is stated")
        #expect(m.subject == "คะแนนการแนะนำสุทธิของพนักงาน (eNPS) – ไตรมาสที่ 4 ปี 2569: ใช้เวลาหนึ่งนาที", "\(m.subject)")
    }

    @Test func identifiedInvitationFallsBackToEnglishAndEscapesNames() throws {
        let composer = try MailComposer(config: PulseConfig())
        let m = try composer.render(try draft(locale: "pt-BR", anonymity: .identified, name: "<script>alert(1)</script> Evil"),
                                    now: Date())
        let raw = decodeQP(String(decoding: m.data, as: UTF8.self))
        #expect(raw.contains("your manager sees your answers"))
        let html = raw.components(separatedBy: "Content-Type: text/html").last!
        #expect(!html.contains("<script>"), "a name from the roster is escaped in HTML")
        #expect(html.contains("&lt;script&gt;"))
        #expect(!raw.contains("/enps/"), "no eNPS scale in a survey without an eNPS question")
    }
}

extension MIMETests {
    /// Templates render once per language and survey; each message still gets its own
    /// name (escaped in HTML) and link.
    @Test func cachedRenderingKeepsEachRepsNameAndLink() throws {
        let composer = try MailComposer(config: PulseConfig())
        var first = try draft(locale: "en", anonymity: .anonymous, name: "Ann <b>Lee</b>")
        first.token = "TOKEN-ANN"
        var second = try draft(locale: "en", anonymity: .anonymous, name: "Bo & Co")
        second.token = "TOKEN-BO"
        let a = decodeQP(String(decoding: try composer.render(first, now: Date()).data, as: UTF8.self))
        let b = decodeQP(String(decoding: try composer.render(second, now: Date()).data, as: UTF8.self))
        #expect(a.contains("Hi Ann <b>Lee</b>,") && a.contains("/s/TOKEN-ANN/enps/10\"") && !a.contains("TOKEN-BO"))
        #expect(b.contains("Hi Bo & Co,") && b.contains("/s/TOKEN-BO\"") && !b.contains("TOKEN-ANN"))
        #expect(!a.contains("\u{E000}") && !b.contains("\u{E000}"), "no mark is left behind")
        let html = b.components(separatedBy: "Content-Type: text/html").last!
        #expect(!html.contains("<b>"))
    }
}

@Suite("Dispatcher over a real database")
struct DispatcherTests {
    func queued(_ count: Int) throws -> AppDatabase {
        let db = try AppDatabase.inMemory()
        let rows = (1...count).map { "r\($0)@acme.example,Rep \($0),west" }.joined(separator: "\n")
        _ = try db.importRoster(try CSVReader(bytes: Array("email,name,team\n\(rows)\n".utf8), file: "r.csv"), now: Date())
        let survey = try SurveyDefinition.load(yaml: DefaultSurveys.weeklyPulse, file: "s.yaml")
        let composer = try MailComposer(config: PulseConfig())
        let summary = try db.queueInvitations(survey: survey, period: Period("2026-W47")!, team: nil, closesAt: nil,
                                              key: TokenKey(bytes: Data(repeating: 7, count: 32)), now: Date(), dryRun: false) {
            try composer.render($0, now: Date())
        }
        #expect(summary.queued.count == count)
        return db
    }

    @Test func sendsEachMessageOnceAcrossParallelConnections() async throws {
        let db = try queued(40)
        let transport = RecordingTransport()
        let report = try await Dispatcher(database: db, transport: transport, connections: 4).run(maxWait: 0)
        #expect(report.sent == 40 && report.failed == 0)
        #expect(Set(transport.sent.map(\.recipient)).count == 40 && transport.sent.count == 40)
        #expect(try db.outboxCounts()["sent"] == 40)
        #expect(try await Dispatcher(database: db, transport: transport).run(maxWait: 0).sent == 0, "nothing goes twice")
    }

    /// Outcomes are recorded a batch per connection at a time: one transaction for up to
    /// `batchSize` of them, and every one of them recorded by the end of the run.
    @Test func outcomesAreRecordedInGroupCommits() async throws {
        let db = try queued(200)
        let sizes = Locked<[Int]>([])
        var dispatcher = Dispatcher(database: db, transport: RecordingTransport(), connections: 2)
        dispatcher.batchInterval = 60  // batches close by size only: the count below is exact
        dispatcher.recorded = { n in sizes.update { $0.append(n) } }
        let report = try await dispatcher.run(maxWait: 0)
        #expect(report.sent == 200)
        #expect(try db.outboxCounts()["sent"] == 200)
        let batches = sizes.value
        #expect(batches.reduce(0, +) == 200)
        #expect(batches.allSatisfy { $0 <= 32 }, "\(batches)")
        // 200 over two lanes: six full batches and at most one part-batch per lane.
        #expect(batches.count <= 200 / 32 + 2, "\(batches.count) transactions: \(batches)")
    }

    /// A round queued in chunks goes out while it is still being queued: the rest is queued
    /// only once the first chunk has begun to go out (a dispatcher that waited for the
    /// queueing to end would wait for ever here), and each rep gets one message.
    @Test func aRoundQueuedInChunksIsSentWhileItIsQueued() async throws {
        let db = try AppDatabase.inMemory()
        let rows = (1...50).map { "r\($0)@acme.example,Rep \($0),west" }.joined(separator: "\n")
        _ = try db.importRoster(try CSVReader(bytes: Array("email,name,team\n\(rows)\n".utf8), file: "r.csv"), now: Date())
        let store = SQLiteAnswerStore(db)
        let composer = try MailComposer(config: PulseConfig())
        let render: MessageRenderer = { try composer.render($0, now: Date()) }
        let key = TokenKey(bytes: Data(repeating: 7, count: 32))
        var request = InvitationRequest(survey: try SurveyDefinition.load(yaml: DefaultSurveys.weeklyPulse, file: "s.yaml"),
                                        period: Period("2026-W47")!, closesAt: nil)
        request.limit = 20
        let first = try await store.queueInvitations(request, key: key, now: Date(), dryRun: false, render: render)
        #expect(first.queued.count == 20 && first.remaining == 30)
        let transport = RecordingTransport()
        let sentBeforeTheRest = Locked(0)
        let chunks = Locked<[Int]>([])
        let (report, queueing) = try await Dispatcher(store: store, transport: transport, connections: 2).run(maxWait: 0) {
            [request] () async throws(PulseError) in
            let deadline = Date().addingTimeInterval(20)
            while transport.sent.isEmpty && Date() < deadline { try? await Task.sleep(for: .milliseconds(5)) }
            sentBeforeTheRest.update { $0 = transport.sent.count }
            _ = try await store.queueInvitations(request, chunk: 20, key: key, now: Date(), dryRun: false, render: render,
                                                 committed: { n in chunks.update { $0.append(n) } })
        }
        #expect(queueing == nil)
        #expect(sentBeforeTheRest.value > 0, "sending began before the rest was queued")
        #expect(chunks.value == [20, 30])
        #expect(report.sent == 50 && report.pending == 0)
        #expect(transport.sent.count == 50 && Set(transport.sent.map(\.recipient)).count == 50)
        // What the queueing could not do is said once what it queued has gone out.
        let (again, refused) = try await Dispatcher(store: store, transport: transport).run(maxWait: 0) { () async throws(PulseError) in
            throw PulseError.usage("the round is closed")
        }
        #expect(again.sent == 0 && refused == PulseError.usage("the round is closed"))
    }

    /// On a server slower than the batch interval, each outcome is recorded before the
    /// connection's next send: a kill can double at most one message per connection.
    @Test func aSlowServerHasEachOutcomeRecordedBeforeTheNextSend() async throws {
        let db = try queued(5)
        let seen = Locked<[Int]>([])
        let transport = RecordingTransport { _, _ in
            seen.update { $0.append((try? db.outboxCounts()["sent", default: 0]) ?? -1) }
            Thread.sleep(forTimeInterval: 0.02)
            return .accepted("250 OK")
        }
        let report = try await Dispatcher(database: db, transport: transport, connections: 1).run(maxWait: 0)
        #expect(report.sent == 5)
        #expect(seen.value == [0, 1, 2, 3, 4], "messages already marked sent as each send began")
    }

    @Test func transientFailuresAreRetriedAndPermanentOnesFail() async throws {
        let db = try queued(3)
        let transport = RecordingTransport { message, attempts in
            if message.recipient == "r1@acme.example" { return .permanent("550 no such user") }
            if message.recipient == "r2@acme.example" && attempts < 2 { return .transient("451 try later") }
            return .accepted("250 OK")
        }
        let report = try await Dispatcher(database: db, transport: transport, connections: 1, retryBase: 0.05).run(maxWait: 5)
        #expect(report.sent == 2 && report.failed == 1 && report.retried >= 1)
        let failed = try db.outbox(status: "failed")
        #expect(failed.count == 1 && failed[0].lastError?.contains("550") == true)
    }

    @Test func retriesStopAtTheLimit() async throws {
        let db = try queued(1)
        let transport = RecordingTransport { _, _ in .transient("421 busy") }
        let report = try await Dispatcher(database: db, transport: transport, connections: 1, maxAttempts: 3, retryBase: 0.02)
            .run(maxWait: 5)
        #expect(report.sent == 0 && report.failed == 1)
        #expect(try db.outbox(status: "failed").first?.attempts == 3)
    }

    /// libcurl's words and a server's reply can quote the URL: what the outbox keeps of
    /// them never holds its user info.
    @Test func theOutboxNeverKeepsAURLsUserInfo() async throws {
        let db = try queued(3)
        let transport = RecordingTransport { message, _ in
            switch message.recipient {
            case "r1@acme.example": return .permanent("550 rejected for smtp://bot:hunter2@mail.example:25/x")
            case "r2@acme.example": return .transient("Failure when sending to smtps://bot@mail.example (timeout)")
            default: return .accepted("250 queued by smtp://bot:hunter2@mail.example")
            }
        }
        _ = try await Dispatcher(database: db, transport: transport, connections: 1, maxAttempts: 1).run(maxWait: 0)
        let entries = try db.outbox()
        #expect(entries.count == 3)
        let kept = entries.flatMap { [$0.lastError, $0.serverReply] }.compactMap { $0 }
        #expect(kept.count == 3, "\(kept)")
        for text in kept {
            #expect(!text.contains("bot") && !text.contains("hunter2"), "\(text)")
            #expect(text.contains("mail.example"), "the server is still named: \(text)")
        }
    }
}

/// A value threads share, behind a lock.
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var _value: Value
    init(_ value: Value) { _value = value }
    var value: Value { lock.withLock { _value } }
    func update(_ body: (inout Value) -> Void) { lock.withLock { body(&_value) } }
}
