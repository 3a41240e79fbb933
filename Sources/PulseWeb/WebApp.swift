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

/// What the answer pages need: the database, the token secret and a clock.
public struct WebSettings: Sendable {
    public var database: AppDatabase
    public var key: TokenKey
    public var organization: String
    public var minGroupSize: Int
    public var clock: @Sendable () -> Date
    /// Largest request body read, in bytes.
    public var maxBody: Int
    /// Failed token look-ups allowed per address in `failureWindow` seconds.
    public var maxFailures: Int
    public var failureWindow: TimeInterval
    /// Addresses of reverse proxies whose `X-Forwarded-For` names the real client.
    public var trustedProxies: Set<String> = []

    public init(database: AppDatabase, key: TokenKey, organization: String, minGroupSize: Int,
                clock: @escaping @Sendable () -> Date = { Date() }, maxBody: Int = 64 * 1024,
                maxFailures: Int = 30, failureWindow: TimeInterval = 600) {
        self.database = database; self.key = key; self.organization = organization; self.minGroupSize = minGroupSize
        self.clock = clock; self.maxBody = maxBody; self.maxFailures = maxFailures; self.failureWindow = failureWindow
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

/// Counts failed token look-ups per address and refuses an address that makes too many.
final class FailureLimiter: @unchecked Sendable {
    private let lock = NSLock()
    private var failures: [String: [Date]] = [:]
    let max: Int
    let window: TimeInterval

    init(max: Int, window: TimeInterval) { self.max = max; self.window = window }

    func isBlocked(_ address: String, now: Date) -> Bool {
        lock.withLock {
            let recent = (failures[address] ?? []).filter { now.timeIntervalSince($0) < window }
            failures[address] = recent.isEmpty ? nil : recent
            return recent.count >= max
        }
    }

    func record(_ address: String, now: Date) {
        lock.withLock {
            failures[address, default: []].append(now)
            // Keep the table small under a scan from many addresses.
            if failures.count > 10_000 {
                failures = failures.filter { now.timeIntervalSince($0.value.last!) < window }
            }
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

    public static func router(_ settings: WebSettings) throws -> Router<WebContext> {
        let h = Handlers(settings: settings,
                         pages: try PageRenderer(organization: settings.organization, minGroupSize: settings.minGroupSize),
                         limiter: FailureLimiter(max: settings.maxFailures, window: settings.failureWindow))
        let db = settings.database
        let pages = h.pages
        let router = Router(context: WebContext.self)
        router.add(middleware: SecurityHeadersMiddleware())
        @Sendable func html(_ body: String, _ status: HTTPResponse.Status = .ok) -> Response { Handlers.html(body, status) }

        router.get("/healthz") { _, _ -> Response in
            _ = try db.schemaVersion()
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
            switch try h.lookUpWithAnswers(token, request, context) {
            case let .refused(response): return response
            case let .found(invitation, values):
                guard invitation.isOpen(at: settings.clock()) else { return html(pages.closed(invitation), .gone) }
                return html(pages.survey(invitation, token: token, values: values, errors: [:], saved: !values.isEmpty))
            }
        }

        // The target of the eleven links in the mail: the page with that score chosen.
        router.get("/s/:token/enps/:score") { request, context -> Response in
            let token = try context.parameters.require("token")
            switch try h.lookUpWithAnswers(token, request, context) {
            case let .refused(response): return response
            case .found(let invitation, var values):
                guard invitation.isOpen(at: settings.clock()) else { return html(pages.closed(invitation), .gone) }
                guard let q = invitation.definition.enpsQuestion,
                      let score = context.parameters.get("score", as: Int.self), (0...10).contains(score) else {
                    return html(pages.notFound(), .notFound)
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
                return html(pages.plain(status: "Too large", text: "The answers sent were larger than a survey allows."), .contentTooLarge)
            }
            switch try h.lookUp(token, request, context) {
            case let .refused(response): return response
            case let .found(invitation):
                let now = settings.clock()
                guard invitation.isOpen(at: now) else { return html(pages.closed(invitation), .gone) }
                // Hummingbird's form decoder: a body a browser would not send (a malformed
                // escape, a field twice) is refused rather than guessed at.
                guard let form = try? URLEncodedFormDecoder().decode([String: String].self, from: String(buffer: body)) else {
                    return html(pages.plain(status: "Bad request", text: "The answers sent could not be read as a form."), .badRequest)
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
                switch try db.submitAnswers(invitation, answers: answers, editKey: h.editKey(token), now: now) {
                case .stored: return html(pages.thanks(invitation, token: token))
                case .closed: return html(pages.closed(invitation), .gone)
                case .answeredElsewhere: return html(pages.answeredElsewhere(invitation), .conflict)
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

    /// Runs a look-up of a token unless its address is blocked, and counts a failure
    /// against that address. `nil` from `fetch` is an unknown token.
    private func guarded<T>(_ token: String, _ request: Request, _ context: WebContext,
                            _ fetch: () throws -> T?) throws -> Result<T, RefusedPage> {
        let now = settings.clock()
        let who = client(request, context)
        if limiter.isBlocked(who, now: now) {
            return .failure(RefusedPage(response: Self.html(pages.plain(status: "Too many requests",
                text: "Too many links that do not open a survey came from this address. Try again later."), .tooManyRequests)))
        }
        guard WebApp.isWellFormed(token), let found = try fetch() else {
            limiter.record(who, now: now)
            return .failure(RefusedPage(response: Self.html(pages.notFound(), .notFound)))
        }
        return .success(found)
    }

    /// The invitation of a token, or the page to give instead (404, 429).
    func lookUp(_ token: String, _ request: Request, _ context: WebContext) throws -> LookUp {
        switch try guarded(token, request, context, { try settings.database.invitation(token: token) }) {
        case let .success(invitation): .found(invitation)
        case let .failure(refused): .refused(refused.response)
        }
    }

    enum LookUpWithAnswers {
        case found(Invitation, [String: String])
        case refused(Response)
    }

    /// The invitation of a token with its stored answers as form values, in one read.
    func lookUpWithAnswers(_ token: String, _ request: Request, _ context: WebContext) throws -> LookUpWithAnswers {
        switch try guarded(token, request, context, {
            try settings.database.invitationAndAnswers(token: token, editKey: editKey(token))
        }) {
        case let .success(found):
            .found(found.invitation, (found.answers ?? [:]).mapValues { v in v.number.map(String.init) ?? v.text ?? "" })
        case let .failure(refused): .refused(refused.response)
        }
    }

    /// The key an anonymous answer is found again by: derived from the token with the
    /// secret in the key file, which the database does not hold.
    func editKey(_ token: String) -> Data { settings.key.derive("edit", token: token) }
}
