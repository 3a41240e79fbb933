import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import PulseCore
import PulseStore

/// The request context: Hummingbird's core storage and the peer's address, for the
/// rate limit on failed token look-ups.
public struct WebContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }
}

/// What the answer pages need: the store, the token secret and a clock.
public struct WebSettings: Sendable {
    public var store: any AnswerStore
    public var key: TokenKey?
    public var organization: String
    public var minGroupSize: Int
    public var clock: @Sendable () -> Date
    /// Largest request body read, in bytes.
    public var maxBody: Int
    /// Failed token look-ups answered at once per address in `failureWindow` seconds;
    /// past them, each failed look-up of that address waits `failureDelay` seconds before
    /// its 429. A valid token is never refused nor made to wait.
    public var maxFailures: Int
    public var failureWindow: TimeInterval
    public var failureDelay: TimeInterval = 1
    /// Where the failures are counted when several servers share a database; this
    /// process alone counts them when `nil`.
    public var sharedFailures: (any LookUpLimitStore)?
    /// How a failed look-up waits (tests watch it).
    public var pause: @Sendable (TimeInterval) async -> Void = { seconds in
        // Cancelled (the client went away): the answer goes at once, to nobody.
        try? await Task.sleep(for: .seconds(seconds))
    }
    /// Addresses of reverse proxies whose `X-Forwarded-For` names the real client.
    public var trustedProxies: Set<String> = []
    /// Where anonymous answers wait to be written in batches.
    public var anonymousAnswers: AnonymousAnswers
    /// Where identified answers wait for their group commit.
    public var identifiedAnswers: IdentifiedAnswers

    public init(store: any AnswerStore, key: TokenKey?, organization: String, minGroupSize: Int,
                clock: @escaping @Sendable () -> Date = { Date() }, maxBody: Int = 64 * 1024,
                maxFailures: Int = 30, failureWindow: TimeInterval = 600) {
        self.store = store; self.key = key; self.organization = organization; self.minGroupSize = minGroupSize
        self.clock = clock; self.maxBody = maxBody; self.maxFailures = maxFailures; self.failureWindow = failureWindow
        anonymousAnswers = AnonymousAnswers(store: store, threshold: minGroupSize, clock: clock)
        identifiedAnswers = IdentifiedAnswers(store: store)
    }

    /// The same on the SQLite engine.
    public init(database: AppDatabase, key: TokenKey, organization: String, minGroupSize: Int,
                clock: @escaping @Sendable () -> Date = { Date() }, maxBody: Int = 64 * 1024,
                maxFailures: Int = 30, failureWindow: TimeInterval = 600) {
        self.init(store: SQLiteAnswerStore(database), key: key, organization: organization, minGroupSize: minGroupSize,
                  clock: clock, maxBody: maxBody, maxFailures: maxFailures, failureWindow: failureWindow)
    }
}

extension HTTPField.Name {
    public static let referrerPolicy = HTTPField.Name("Referrer-Policy")!
    public static let xFrameOptions = HTTPField.Name("X-Frame-Options")!
}

/// The page given instead of a survey (404, 429).
struct RefusedPage: Error {
    var response: Response
}

/// The invitation a token opens, or the page to answer with instead.
enum LookUp {
    case found(Invitation)
    case refused(Response)
}

/// Security headers on every response: no script at all, no framing, no referrer (the
/// personal link must not leak to another site), no MIME sniffing, no caching of pages
/// that hold answers.
struct SecurityHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as HTTPResponseError {
            response = try error.response(from: request, context: context)
        }
        response.headers[.contentSecurityPolicy] =
            "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[.referrerPolicy] = "no-referrer"
        response.headers[.xFrameOptions] = "DENY"
        if response.headers[.cacheControl] == nil { response.headers[.cacheControl] = "no-store" }
        return response
    }
}

/// Counts failed token look-ups per address. It only slows guessing: reps behind one
/// office NAT, or behind a proxy started without `--trust-proxy`, share an address with
/// whoever mistypes or scans, so it never decides whether a valid token opens.
final class FailureLimiter: @unchecked Sendable {
    private let lock = NSLock()
    /// The latest failures of each address, at most `max` of them.
    private var failures: [String: [Date]] = [:]
    let max: Int
    let window: TimeInterval

    init(max: Int, window: TimeInterval) { self.max = Swift.max(1, max); self.window = window }

    /// Records a failed look-up. Returns how long until the address is under the limit
    /// again, when it had already used up its `max` failures in the window; `nil` otherwise.
    func recordFailure(_ address: String, now: Date) -> TimeInterval? {
        lock.withLock {
            let recent = (failures[address] ?? []).filter { now.timeIntervalSince($0) < window }
            let over = recent.count >= max ? window - now.timeIntervalSince(recent[0]) : nil
            failures[address] = Array((recent + [now]).suffix(max))
            // Keep the table small under a scan from many addresses.
            if failures.count > 10_000 {
                failures = failures.filter { now.timeIntervalSince($0.value.last!) < window }
            }
            return over
        }
    }
}

/// The answer pages behind the personal links.
public enum WebApp {
    /// Tokens are 256-bit HMACs in base64url: 43 characters.
    static func isWellFormed(_ token: String) -> Bool {
        token.utf8.count == 43 && token.utf8.allSatisfy { c in
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x2D || c == 0x5F
        }
    }

    /// The fields of a form as a browser sends it (`application/x-www-form-urlencoded`,
    /// every part `name=value`), or `nil` for anything else.
    static func form(contentType: String?, body: String) -> [String: String]? {
        guard let type = contentType?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased(),
              type == "application/x-www-form-urlencoded",
              body.split(separator: "&").allSatisfy({ $0.contains("=") })
        else { return nil }
        return try? URLEncodedFormDecoder().decode([String: String].self, from: body)
    }

    public static func router(_ settings: WebSettings) throws -> Router<WebContext> {
        let h = Handlers(settings: settings,
                         pages: try PageRenderer(organization: settings.organization, minGroupSize: settings.minGroupSize),
                         limiter: FailureLimiter(max: settings.maxFailures, window: settings.failureWindow))
        let store = settings.store
        let pages = h.pages
        let router = Router(context: WebContext.self)
        router.add(middleware: SecurityHeadersMiddleware())
        @Sendable func html(_ body: String, _ status: HTTPResponse.Status = .ok) -> Response { Handlers.html(body, status) }

        router.get("/healthz") { _, _ -> Response in
            try await store.checkHealth()
            return Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(string: "ok\n")))
        }

        // Browsers ask for it on every first visit: an empty answer, not a 404.
        router.get("/favicon.ico") { _, _ -> Response in
            Response(status: .noContent, headers: [.cacheControl: "public, max-age=86400"])
        }

        router.get("/static/pulse.css") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "text/css; charset=utf-8", .cacheControl: "public, max-age=86400"],
                     body: .init(byteBuffer: ByteBuffer(string: PageRenderer.css)))
        }

        // The page. A GET never stores anything: mail scanners follow every link.
        router.get("/s/:token") { request, context -> Response in
            let token = try context.parameters.require("token")
            switch try await h.lookUpWithAnswers(token, request, context) {
            case let .refused(response): return response
            case let .found(invitation, values):
                guard invitation.isOpen(at: settings.clock()) else { return html(pages.closed(invitation), .gone) }
                if invitation.isRecordedAnonymously(at: settings.clock()) { return html(pages.recorded(invitation)) }
                return html(pages.survey(invitation, token: token, values: values, errors: [:], saved: !values.isEmpty))
            }
        }

        // The target of the eleven links in the mail: the page with that score chosen.
        router.get("/s/:token/enps/:score") { request, context -> Response in
            let token = try context.parameters.require("token")
            switch try await h.lookUpWithAnswers(token, request, context) {
            case let .refused(response): return response
            case .found(let invitation, var values):
                guard invitation.isOpen(at: settings.clock()) else { return html(pages.closed(invitation), .gone) }
                if invitation.isRecordedAnonymously(at: settings.clock()) { return html(pages.recorded(invitation)) }
                guard let q = invitation.definition.enpsQuestion,
                      let score = context.parameters.get("score", as: Int.self), (0...10).contains(score) else {
                    return h.notFound(request)
                }
                values[q.id] = String(score)
                return html(pages.survey(invitation, token: token, values: values, errors: [:], saved: false))
            }
        }

        router.post("/s/:token") { request, context -> Response in
            let token = try context.parameters.require("token")
            var request = request
            let body: ByteBuffer
            do {
                body = try await request.collectBody(upTo: settings.maxBody)
            } catch {
                return h.refused(.tooLarge, request, .contentTooLarge)
            }
            switch try await h.lookUp(token, request, context) {
            case let .refused(response): return response
            case let .found(invitation):
                let now = settings.clock()
                guard invitation.isOpen(at: now) else { return html(pages.closed(invitation), .gone) }
                if invitation.isRecordedAnonymously(at: now) { return html(pages.recorded(invitation), .conflict) }
                // Only what the page's form sends is read: a body of another type, or one a
                // browser would not send (not name=value pairs, a malformed escape, a field
                // twice), is refused rather than guessed at.
                guard let form = WebApp.form(contentType: request.headers[.contentType], body: String(buffer: body)) else {
                    return h.refused(.badRequest, request, .badRequest)
                }
                let (_, strings) = PageStrings.forLocale(invitation.rep.locale)
                var answers: [String: AnswerValue] = [:], errors: [String: String] = [:]
                for q in invitation.definition.questions {
                    let raw = form[q.id]?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
                    if raw.isEmpty {
                        if !q.isOptional { errors[q.id] = strings.required }
                        continue
                    }
                    switch q.parse(raw) {
                    case let .success(v): answers[q.id] = v
                    case let .failure(problem): errors[q.id] = problem.message
                    }
                }
                guard errors.isEmpty else {
                    return html(pages.survey(invitation, token: token, values: form, errors: errors, saved: false), .unprocessableContent)
                }
                let outcome = invitation.definition.anonymity == .anonymous
                    ? try await settings.anonymousAnswers.hold(invitation, answers: answers, now: now)
                    : try await settings.identifiedAnswers.submit(AnswerSubmission(invitation, answers: answers, now: now))
                switch outcome {
                case .stored: return html(pages.thanks(invitation, token: token))
                case .closed: return html(pages.closed(invitation), .gone)
                case .alreadyRecorded: return html(pages.recorded(invitation), .conflict)
                }
            }
        }
        return router
    }

    /// The server, ready to run.
    public static func application(_ settings: WebSettings, host: String, port: Int, logger: Logger,
                                   onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in })
        throws -> some ApplicationProtocol {
        Application(router: try router(settings),
                    configuration: .init(address: .hostname(host, port: port), serverName: nil),
                    onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? port) },
                    logger: logger)
    }
}

/// What the routes share: the settings, the page renderer and the failure limiter.
struct Handlers: Sendable {
    let settings: WebSettings
    let pages: PageRenderer
    let limiter: FailureLimiter

    static func html(_ body: String, _ status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "text/html; charset=utf-8"],
                 body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    /// The 404 page in the browser's language.
    func notFound(_ request: Request) -> Response {
        var r = Self.html(pages.notFound(acceptLanguage: request.headers[.acceptLanguage]), .notFound)
        r.headers[.vary] = "Accept-Language"
        return r
    }

    /// A refusal page (413, 400, 429) in the browser's language.
    func refused(_ why: PageRenderer.Refusal, _ request: Request, _ status: HTTPResponse.Status) -> Response {
        var r = Self.html(pages.refused(why, acceptLanguage: request.headers[.acceptLanguage]), status)
        r.headers[.vary] = "Accept-Language"
        return r
    }

    /// The client's address: the peer, or behind a trusted proxy the address it forwarded
    /// for (the last entry of `X-Forwarded-For`, the one that proxy added).
    func client(_ request: Request, _ context: WebContext) -> String {
        let peer = context.remoteAddress?.ipAddress ?? "unknown"
        guard settings.trustedProxies.contains(peer),
              let forwarded = request.headers[HTTPField.Name("X-Forwarded-For")!],
              let last = forwarded.split(separator: ",").last?.trimmingCharacters(in: .whitespaces), !last.isEmpty
        else { return peer }
        return last
    }

    /// Looks a token up and counts a failure against the client's address. A valid token
    /// always opens, whatever that address did before; a failed look-up past the limit
    /// waits `failureDelay` before its 429, so that guessing from one address is slow.
    /// `nil` from `fetch` is an unknown token.
    private func guarded<T>(_ token: String, _ request: Request, _ context: WebContext,
                            _ fetch: () async throws -> T?) async throws -> Result<T, RefusedPage> {
        if WebApp.isWellFormed(token), let found = try await fetch() { return .success(found) }
        let address = client(request, context), now = settings.clock()
        let over: TimeInterval?
        if let shared = settings.sharedFailures {
            over = try await shared.recordFailedLookUp(address: address, now: now, window: settings.failureWindow,
                                                       max: Swift.max(1, settings.maxFailures))
        } else {
            over = limiter.recordFailure(address, now: now)
        }
        guard let retry = over else {
            return .failure(RefusedPage(response: notFound(request)))
        }
        await settings.pause(settings.failureDelay)
        var response = refused(.tooMany, request, .tooManyRequests)
        response.headers[.retryAfter] = String(Swift.max(1, Int(retry.rounded(.up))))
        return .failure(RefusedPage(response: response))
    }

    /// The invitation of a token, or the page to give instead (404, 429).
    func lookUp(_ token: String, _ request: Request, _ context: WebContext) async throws -> LookUp {
        switch try await guarded(token, request, context, { try await settings.store.invitation(token: token) }) {
        case let .success(invitation): .found(invitation)
        case let .failure(refused): .refused(refused.response)
        }
    }

    enum LookUpWithAnswers {
        case found(Invitation, [String: String])
        case refused(Response)
    }

    /// The invitation of a token with its stored answers as form values, in one read.
    func lookUpWithAnswers(_ token: String, _ request: Request, _ context: WebContext) async throws -> LookUpWithAnswers {
        switch try await guarded(token, request, context, {
            try await settings.store.invitationAndAnswers(token: token)
        }) {
        case let .success(found):
            .found(found.invitation, (found.answers ?? [:]).mapValues { v in v.number.map(String.init) ?? v.text ?? "" })
        case let .failure(refused): .refused(refused.response)
        }
    }
}
