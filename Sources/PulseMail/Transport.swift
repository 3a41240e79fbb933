import CCurl
import Foundation
import PulseCore
import PulseStore

/// What became of one attempt to hand a message over.
public enum SendOutcome: Sendable, Equatable {
    /// The server took it (its reply).
    case accepted(String)
    /// Try again later: a 4xx reply, a timeout, a refused connection.
    case transient(String)
    /// Never going to work for this message: a 5xx reply.
    case permanent(String)
    /// Nothing will go out until a person fixes something: a wrong password, TLS refused.
    case fatal(String)
    /// The server cannot be reached at all (refused, unknown host): not this message's
    /// fault, so it keeps its attempts and the run stops until the server is back.
    case unavailable(String)
}

/// A way to send mail. Each worker opens its own session, which may keep a connection.
public protocol MailTransport: Sendable {
    func makeSession() throws(PulseError) -> any MailSession
    var description: String { get }
}

public protocol MailSession: AnyObject {
    func send(_ message: QueuedMessage) -> SendOutcome
}

// MARK: - File

/// Writes each message as an `.eml` file: the default, for a first run with nothing configured.
public struct FileTransport: MailTransport {
    public let directory: String

    public init(directory: String) { self.directory = directory }

    public var description: String { "file outbox \(directory)" }

    /// The Message-ID names the file: a resend after a crash overwrites, never doubles.
    public static func fileName(messageID: String) -> String {
        String(messageID.map { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" ? $0 : "_" }) + ".eml"
    }

    public func makeSession() throws(PulseError) -> any MailSession {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw .runtime("cannot create the outbox folder \(directory): \(error.localizedDescription)")
        }
        return Session(directory: directory)
    }

    final class Session: MailSession {
        let directory: String
        init(directory: String) { self.directory = directory }

        func send(_ message: QueuedMessage) -> SendOutcome {
            let path = (directory as NSString).appendingPathComponent(FileTransport.fileName(messageID: message.messageID))
            // The message holds the rep's personal link: the owner's only.
            do throws(PulseError) {
                try PrivateFile.write(message.data, toPath: path)
                return .accepted("written to \(path)")
            } catch {
                return .transient(error.description)
            }
        }
    }
}

// MARK: - SMTP

/// SMTP through libcurl: `smtp://` with STARTTLS (required unless told otherwise) or
/// `smtps://`, AUTH with a password from the environment, one connection per session,
/// reused across messages.
public struct SMTPTransport: MailTransport {
    public enum TLS: String, Sendable { case required, opportunistic, none }

    public var url: String
    public var tls: TLS
    public var user: String?
    public var password: String?
    public var timeoutSeconds: Int
    public var caFile: String?

    public init(url: String, tls: TLS, user: String?, password: String?, timeoutSeconds: Int, caFile: String? = nil) {
        self.url = url; self.tls = tls; self.user = user; self.password = password
        self.timeoutSeconds = timeoutSeconds; self.caFile = caFile
    }

    public var description: String { "SMTP \(shownURL)" }

    /// The URL as Pulse prints it: without its user info.
    public var shownURL: String { URLUserInfo.redacted(url) }

    private static let globalInit: Void = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

    public func makeSession() throws(PulseError) -> any MailSession {
        _ = Self.globalInit
        guard let handle = curl_easy_init() else { throw .runtime("libcurl could not start") }
        return Session(transport: self, handle: handle)
    }

    final class Session: MailSession {
        let transport: SMTPTransport
        let handle: UnsafeMutableRawPointer

        init(transport: SMTPTransport, handle: UnsafeMutableRawPointer) {
            self.transport = transport
            self.handle = handle
        }

        deinit { curl_easy_cleanup(handle) }

        /// State the C callbacks reach through their user pointer.
        final class Upload {
            let bytes: [UInt8]
            var offset = 0
            var lastReply = ""
            /// The first 4xx or 5xx line: the reason, where a later "221 Bye" would hide it.
            var errorReply = ""
            init(_ data: Data) { bytes = [UInt8](data) }
        }

        func send(_ message: QueuedMessage) -> SendOutcome {
            let t = transport
            let upload = Upload(message.data)
            let box = Unmanaged.passRetained(upload)
            defer { box.release() }
            var recipients: UnsafeMutablePointer<curl_slist>? = nil
            recipients = curl_slist_append(recipients, "<\(message.recipient)>")
            defer { curl_slist_free_all(recipients) }

            pulse_curl_setopt_string(handle, CURLOPT_URL, t.url)
            pulse_curl_setopt_string(handle, CURLOPT_MAIL_FROM, "<\(message.sender)>")
            pulse_curl_setopt_slist(handle, CURLOPT_MAIL_RCPT, recipients)
            pulse_curl_setopt_long(handle, CURLOPT_UPLOAD, 1)
            pulse_curl_setopt_long(handle, CURLOPT_INFILESIZE, message.data.count)
            let ssl: curl_usessl = t.tls == .required ? CURLUSESSL_ALL : t.tls == .opportunistic ? CURLUSESSL_TRY : CURLUSESSL_NONE
            pulse_curl_setopt_long(handle, CURLOPT_USE_SSL, Int(ssl.rawValue))
            if let user = t.user { pulse_curl_setopt_string(handle, CURLOPT_USERNAME, user) }
            if let password = t.password { pulse_curl_setopt_string(handle, CURLOPT_PASSWORD, password) }
            if let ca = t.caFile { pulse_curl_setopt_string(handle, CURLOPT_CAINFO, ca) }
            pulse_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT, min(t.timeoutSeconds, 30))
            pulse_curl_setopt_long(handle, CURLOPT_TIMEOUT, t.timeoutSeconds)
            pulse_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
            pulse_curl_setopt_pointer(handle, CURLOPT_READDATA, box.toOpaque())
            pulse_curl_setopt_read(handle) { buffer, size, count, user in
                let up = Unmanaged<Upload>.fromOpaque(user!).takeUnretainedValue()
                let n = min(size * count, up.bytes.count - up.offset)
                guard n > 0, let buffer else { return 0 }
                up.bytes.withUnsafeBufferPointer { src in
                    UnsafeMutableRawPointer(buffer).copyMemory(from: src.baseAddress! + up.offset, byteCount: n)
                }
                up.offset += n
                return n
            }
            // The server's lines, for the reply recorded with a sent message.
            pulse_curl_setopt_long(handle, CURLOPT_VERBOSE, 1)
            pulse_curl_setopt_pointer(handle, CURLOPT_DEBUGDATA, box.toOpaque())
            pulse_curl_setopt_debug(handle) { _, type, data, size, user in
                guard type == CURLINFO_HEADER_IN, let data, let user else { return 0 }
                let up = Unmanaged<Upload>.fromOpaque(user).takeUnretainedValue()
                let line = String(decoding: UnsafeRawBufferPointer(start: data, count: size), as: UTF8.self)
                up.lastReply = line.trimmingCharacters(in: .whitespacesAndNewlines)
                if up.errorReply.isEmpty, let first = up.lastReply.first, first == "4" || first == "5" {
                    up.errorReply = up.lastReply
                }
                return 0
            }
            let code = curl_easy_perform(handle)
            var response: Int = 0
            pulse_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &response)
            let reply = upload.lastReply
            if code == CURLE_OK { return .accepted(reply.isEmpty ? "250" : reply) }
            let what = String(cString: curl_easy_strerror(code))
            let serverSaid = upload.errorReply.isEmpty ? reply : upload.errorReply
            let detail = serverSaid.isEmpty ? what : "\(what): \(serverSaid)"
            switch code {
            case CURLE_LOGIN_DENIED:
                return .fatal("the mail server refused the user name or password (\(detail))")
            case CURLE_USE_SSL_FAILED:
                return .fatal("the mail server does not offer STARTTLS, which mail.smtp.tls: required asks for (\(detail))")
            case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE:
                return .fatal("the mail server's TLS certificate cannot be verified (\(detail))")
            case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY:
                return .unavailable("cannot reach the mail server at \(t.shownURL) (\(what))")
            case CURLE_UNSUPPORTED_PROTOCOL, CURLE_URL_MALFORMAT:
                return .fatal("mail.smtp.url \(t.shownURL) is not an smtp:// or smtps:// address (\(what))")
            default:
                break
            }
            if (500..<600).contains(response) { return .permanent(detail) }
            return .transient(response > 0 ? detail : what)
        }
    }
}

extension SMTPTransport {
    /// Connects, says EHLO, starts TLS as configured and logs in, then quits without
    /// sending: what `pulse doctor` asks of the mail server.
    /// - Returns: the server's last reply line on success.
    public func check() -> Result<String, PulseError> {
        _ = Self.checkInit
        guard let handle = curl_easy_init() else { return .failure(.runtime("libcurl could not start")) }
        defer { curl_easy_cleanup(handle) }
        final class Replies { var lines: [String] = [] }
        let replies = Replies()
        let box = Unmanaged.passRetained(replies)
        defer { box.release() }
        pulse_curl_setopt_string(handle, CURLOPT_URL, url)
        let ssl: curl_usessl = tls == .required ? CURLUSESSL_ALL : tls == .opportunistic ? CURLUSESSL_TRY : CURLUSESSL_NONE
        pulse_curl_setopt_long(handle, CURLOPT_USE_SSL, Int(ssl.rawValue))
        if let user { pulse_curl_setopt_string(handle, CURLOPT_USERNAME, user) }
        if let password { pulse_curl_setopt_string(handle, CURLOPT_PASSWORD, password) }
        if let caFile { pulse_curl_setopt_string(handle, CURLOPT_CAINFO, caFile) }
        // The connection phase of SMTP in libcurl is greeting, EHLO, STARTTLS and AUTH.
        pulse_curl_setopt_long(handle, CURLOPT_CONNECT_ONLY, 1)
        pulse_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT, min(timeoutSeconds, 30))
        pulse_curl_setopt_long(handle, CURLOPT_TIMEOUT, timeoutSeconds)
        pulse_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        pulse_curl_setopt_long(handle, CURLOPT_VERBOSE, 1)
        pulse_curl_setopt_pointer(handle, CURLOPT_DEBUGDATA, box.toOpaque())
        pulse_curl_setopt_debug(handle) { _, type, data, size, user in
            guard type == CURLINFO_HEADER_IN, let data, let user else { return 0 }
            let r = Unmanaged<Replies>.fromOpaque(user).takeUnretainedValue()
            r.lines.append(String(decoding: UnsafeRawBufferPointer(start: data, count: size), as: UTF8.self)
                .trimmingCharacters(in: .whitespacesAndNewlines))
            return 0
        }
        let code = curl_easy_perform(handle)
        let last = replies.lines.last ?? ""
        if code == CURLE_OK { return .success(last) }
        let what = String(cString: curl_easy_strerror(code))
        let said = replies.lines.last { $0.first == "4" || $0.first == "5" } ?? last
        switch code {
        case CURLE_LOGIN_DENIED:
            return .failure(.runtime("the server refused the user name or password (\(said.isEmpty ? what : said)): check mail.smtp.user and the password variable"))
        case CURLE_USE_SSL_FAILED:
            return .failure(.runtime("the server does not offer STARTTLS, which mail.smtp.tls: required asks for: use smtps:// or ask for TLS on the server"))
        case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE:
            return .failure(.runtime("the server's TLS certificate cannot be verified (\(what)): set mail.smtp.ca_file to its CA"))
        case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_OPERATION_TIMEDOUT:
            return .failure(.runtime("cannot reach \(shownURL) (\(what)): check mail.smtp.url and that the server runs"))
        default:
            return .failure(.runtime("\(what)\(said.isEmpty ? "" : ": \(said)")"))
        }
    }

    private static let checkInit: Void = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()
}

// MARK: - Recording (tests)

/// Keeps messages in memory, with scripted outcomes: for tests.
public final class RecordingTransport: MailTransport, @unchecked Sendable {
    private let lock = NSLock()
    private var _sent: [QueuedMessage] = []
    private var script: (QueuedMessage, Int) -> SendOutcome

    public init(script: @escaping (QueuedMessage, Int) -> SendOutcome = { _, _ in .accepted("250 OK") }) {
        self.script = script
    }

    public var description: String { "recording" }
    public var sent: [QueuedMessage] { lock.withLock { _sent } }

    public func makeSession() throws(PulseError) -> any MailSession { Session(owner: self) }

    final class Session: MailSession {
        let owner: RecordingTransport
        init(owner: RecordingTransport) { self.owner = owner }
        func send(_ message: QueuedMessage) -> SendOutcome {
            owner.lock.withLock {
                let outcome = owner.script(message, message.attempts)
                if case .accepted = outcome { owner._sent.append(message) }
                return outcome
            }
        }
    }
}
