import Crypto
import Foundation

/// One invitation or reminder to render, handed to the caller inside the transaction
/// that records it, so that a message exists in the outbox before anything is sent.
public struct MessageDraft: Sendable {
    public enum Kind: String, Sendable { case invitation, reminder }
    public var kind: Kind
    public var invitationID: Int64
    public var rep: Rep
    /// The personal token of the invitation (the database keeps only its hash).
    public var token: String
    public var survey: SurveyDefinition
    public var period: Period
    public var closesAt: Date?
    /// 1 for the first reminder.
    public var reminderNumber: Int

    public init(kind: Kind, invitationID: Int64, rep: Rep, token: String, survey: SurveyDefinition, period: Period, closesAt: Date?,
                reminderNumber: Int) {
        self.kind = kind; self.invitationID = invitationID; self.rep = rep; self.token = token; self.survey = survey
        self.period = period; self.closesAt = closesAt; self.reminderNumber = reminderNumber
    }
}

/// A rendered message, as the outbox stores it.
public struct RenderedMessage: Sendable {
    public var messageID: String
    public var sender: String
    public var recipient: String
    public var subject: String
    public var data: Data
    /// The plain-text part as written (for showing a message; the outbox keeps `data`).
    public var text: String?

    public init(messageID: String, sender: String, recipient: String, subject: String, data: Data, text: String? = nil) {
        self.messageID = messageID; self.sender = sender; self.recipient = recipient; self.subject = subject; self.data = data
        self.text = text
    }
}

/// A message waiting in the outbox.
public struct QueuedMessage: Sendable {
    public var id: Int64
    public var messageID: String
    public var sender: String
    public var recipient: String
    public var data: Data
    public var attempts: Int

    public init(id: Int64, messageID: String, sender: String, recipient: String, data: Data, attempts: Int) {
        self.id = id; self.messageID = messageID; self.sender = sender; self.recipient = recipient; self.data = data
        self.attempts = attempts
    }
}

/// When one rep of a round is reminded next, and why (not).
public struct ReminderPlan: Sendable {
    public var email: String
    public var sent: Int
    /// The moment the next reminder goes out; `nil` when none will.
    public var due: Date?
    public var reason: String

    public init(email: String, sent: Int, due: Date?, reason: String) {
        self.email = email; self.sent = sent; self.due = due; self.reason = reason
    }

    /// A reminder needs time to be answered: none goes out in the last six hours of an
    /// invitation's window.
    public static let lastReminderBeforeClose: TimeInterval = 6 * 3600

    /// When one unanswered rep is reminded next, by the rule every engine applies.
    /// - Parameters:
    ///   - lastContact: the last reminder, or the invitation's sending (`nil`: not sent yet).
    ///   - closes: when the rep's window closes.
    public static func decide(email: String, sent: Int, lastContact: Date?, closes: Date?, roundClosed: Bool, active: Bool,
                              max: Int, minDaysApart: Int, now: Date) -> ReminderPlan {
        var plan = ReminderPlan(email: email, sent: sent, due: nil, reason: "")
        guard let last = lastContact else { plan.reason = "not before the invitation is sent"; return plan }
        if roundClosed { plan.reason = "none: the round is closed"; return plan }
        if !active { plan.reason = "none: the rep is deactivated"; return plan }
        if sent >= max { plan.reason = "none: \(sent) of \(max) sent (reminders.max)"; return plan }
        let due = last.addingTimeInterval(Double(minDaysApart) * 86_400)
        if let closes, closes <= Swift.max(due, now).addingTimeInterval(lastReminderBeforeClose) {
            plan.reason = "none: the window closes at \(Timestamp.string(closes)), too soon after one would be due"
            return plan
        }
        plan.due = Swift.max(due, now)
        plan.reason = due <= now ? "due now" : "due at \(Timestamp.string(due))"
        return plan
    }
}

/// What queueing invitations or reminders did.
public struct QueueSummary: Sendable {
    public var roundCreated = false
    public var queued: [(email: String, subject: String)] = []
    /// Reps already invited before this call.
    public var skipped = 0
    /// Reps still to invite when the request's limit stopped this call.
    public var remaining = 0

    public init() {}
}

/// A round with its counts, for `pulse rounds list`.
public struct RoundSummary: Sendable {
    public var round: Round
    public var version: Int
    public var invited: Int
    public var answered: Int
    public var responses: Int

    public init(round: Round, version: Int, invited: Int, answered: Int, responses: Int) {
        self.round = round; self.version = version; self.invited = invited; self.answered = answered; self.responses = responses
    }
}

/// A message of the outbox, for `pulse outbox`.
public struct OutboxEntry: Sendable {
    public var id: Int64
    public var kind: String
    public var recipient: String
    public var subject: String
    public var status: String
    public var attempts: Int
    public var nextAttemptAt: String
    public var lastError: String?
    public var serverReply: String?
    public var sentAt: String?
    public var messageID: String

    public init(id: Int64, kind: String, recipient: String, subject: String, status: String, attempts: Int, nextAttemptAt: String,
                lastError: String?, serverReply: String?, sentAt: String?, messageID: String) {
        self.id = id; self.kind = kind; self.recipient = recipient; self.subject = subject; self.status = status
        self.attempts = attempts; self.nextAttemptAt = nextAttemptAt; self.lastError = lastError; self.serverReply = serverReply
        self.sentAt = sentAt; self.messageID = messageID
    }
}

/// Derives personal tokens from a secret that lives beside the database, not in it:
/// the database holds only each token's SHA-256, and the same link can be written
/// again in a reminder.
public struct TokenKey: Sendable {
    let key: SymmetricKey

    public init(bytes: Data) { key = SymmetricKey(data: bytes) }

    /// The key's bytes, as the key file beside a SQLite workspace holds them.
    public var bytes: Data { key.withUnsafeBytes { Data($0) } }

    /// What the database keeps of a token: its SHA-256.
    public static func hash(_ token: String) -> Data { Data(SHA256.hash(data: Data(token.utf8))) }

    /// The token of an invitation: 256 bits, base64url.
    public func token(invitationID: Int64, roundID: Int64) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data("pulse-token|\(roundID)|\(invitationID)".utf8), using: key)
        // base64url without padding, byte by byte (a round renders thousands of these).
        let url = Data(mac).base64EncodedData().compactMap { (c: UInt8) -> UInt8? in
            switch c {
            case UInt8(ascii: "+"): UInt8(ascii: "-")
            case UInt8(ascii: "/"): UInt8(ascii: "_")
            case UInt8(ascii: "="): nil
            default: c
            }
        }
        return String(decoding: url, as: UTF8.self)
    }
}

