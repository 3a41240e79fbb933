import Foundation
import Mustache
import PulseCore
import PulseStore

/// The words around a survey in each language Pulse writes mail in. `%@` are filled in
/// order. The scale's ends come from the survey's own labels, not from here.
struct MailStrings {
    var subject: String          // title, period
    var reminderSubject: String  // title, period
    var greeting: String         // name
    var intro: String            // organization
    var reminderIntro: String
    var answer: String
    var visibilityTitle: String
    var identified: String
    var anonymous: String        // threshold
    var closes: String           // date and time, zone
    var footer: String

    static let all: [String: MailStrings] = [
        "en": MailStrings(
            subject: "%@ – %@: one minute", reminderSubject: "Reminder: %@ – %@",
            greeting: "Hi %@,", intro: "%@ would like to know how things are going. It takes under a minute.",
            reminderIntro: "You have not answered yet; there is still time, and it takes under a minute.",
            answer: "Answer the survey", visibilityTitle: "Who sees your answers:",
            identified: "your manager sees your answers with your name; they help prepare your one-on-one.",
            anonymous: "Pulse reports the answers to this survey only for groups of at least %@ people, never one by one.",
            closes: "The survey closes on %@.", footer: "This link is personal to you: please do not forward this mail."),
        "th": MailStrings(
            subject: "%@ – %@: ใช้เวลาหนึ่งนาที", reminderSubject: "เตือนความจำ: %@ – %@",
            greeting: "สวัสดี %@", intro: "%@ อยากทราบว่างานของคุณเป็นอย่างไรบ้าง ใช้เวลาไม่ถึงหนึ่งนาที",
            reminderIntro: "คุณยังไม่ได้ตอบแบบสำรวจ ยังมีเวลาอยู่ และใช้เวลาไม่ถึงหนึ่งนาที",
            answer: "ตอบแบบสำรวจ", visibilityTitle: "ใครเห็นคำตอบของคุณ:",
            identified: "ผู้จัดการของคุณจะเห็นคำตอบพร้อมชื่อของคุณ เพื่อใช้เตรียมการพูดคุยแบบตัวต่อตัว",
            anonymous: "Pulse รายงานคำตอบของแบบสำรวจนี้เฉพาะเป็นกลุ่มที่มีอย่างน้อย %@ คน ไม่แสดงทีละคน",
            closes: "แบบสำรวจจะปิดในวันที่ %@", footer: "ลิงก์นี้เป็นของคุณโดยเฉพาะ โปรดอย่าส่งต่ออีเมลนี้"),
        "ms": MailStrings(
            subject: "%@ – %@: satu minit", reminderSubject: "Peringatan: %@ – %@",
            greeting: "Hai %@,", intro: "%@ ingin tahu keadaan anda. Ia mengambil masa kurang daripada seminit.",
            reminderIntro: "Anda belum menjawab; masih ada masa, dan ia mengambil masa kurang daripada seminit.",
            answer: "Jawab tinjauan", visibilityTitle: "Siapa yang melihat jawapan anda:",
            identified: "pengurus anda melihat jawapan anda bersama nama anda; ia membantu menyediakan sesi empat mata anda.",
            anonymous: "Pulse melaporkan jawapan tinjauan ini hanya bagi kumpulan sekurang-kurangnya %@ orang, tidak pernah secara individu.",
            closes: "Tinjauan ditutup pada %@.", footer: "Pautan ini khusus untuk anda: sila jangan majukan e-mel ini."),
        "ru": MailStrings(
            subject: "%@ – %@: одна минута", reminderSubject: "Напоминание: %@ – %@",
            greeting: "Здравствуйте, %@!", intro: "%@ хочет узнать, как у вас дела. Это займёт меньше минуты.",
            reminderIntro: "Вы ещё не ответили; время есть, и это займёт меньше минуты.",
            answer: "Ответить на опрос", visibilityTitle: "Кто видит ваши ответы:",
            identified: "ваш руководитель видит ответы вместе с вашим именем; они помогают подготовить встречу один на один.",
            anonymous: "Pulse показывает ответы на этот опрос только по группам не меньше %@ человек, никогда по отдельности.",
            closes: "Опрос закрывается %@.", footer: "Это ваша личная ссылка: пожалуйста, не пересылайте это письмо."),
    ]

    /// The strings for a locale: its language, or English.
    static func forLocale(_ locale: String?) -> (String, MailStrings) {
        let language = languageCode(locale)
        if let s = all[language] { return (language, s) }
        return ("en", all["en"]!)
    }
}

func fill(_ pattern: String, _ values: String...) -> String {
    var out = pattern
    for v in values {
        guard let r = out.range(of: "%@") else { break }
        out.replaceSubrange(r, with: v)
    }
    return out
}

/// Renders invitations and reminders from Mustache templates: the built-in ones, or
/// the same names in `mail.templates_dir`.
public struct MailComposer: Sendable {
    public static let templateNames = ["invitation.txt", "invitation.html"]

    let library: MustacheLibrary
    let from: MailAddress
    let baseURL: String
    let organization: String
    let minGroupSize: Int
    /// pulse.yaml's time zone: a rep without one reads the closing time in it.
    let defaultZone: String?
    let formatters = DateFormatters()

    /// - Throws: `PulseError` for a bad sender, base URL or template.
    public init(config: PulseConfig, templatesDir: String? = nil) throws(PulseError) {
        let fromText = config.mail?.from ?? PulseConfig.Default.from
        guard let from = MailAddress(parsing: fromText) else {
            throw .input(InputIssue(file: "pulse.yaml", field: "mail.from", "\"\(fromText)\" is not a mail address like Pulse <pulse@example.com>"))
        }
        self.from = from
        let base = config.baseURL ?? PulseConfig.Default.baseURL
        guard let url = URL(string: base), url.scheme == "http" || url.scheme == "https", url.host != nil else {
            throw .input(InputIssue(file: "pulse.yaml", field: "base_url", "\"\(base)\" is not an http(s) address"))
        }
        baseURL = base.hasSuffix("/") ? String(base.dropLast()) : base
        organization = config.organization ?? PulseConfig.Default.organization
        minGroupSize = config.anonymityThreshold
        defaultZone = config.timezone
        var library = MustacheLibrary()
        let builtIn: [String: [UInt8]] = [
            "invitation.txt": PackageResources.invitation_txt_mustache,
            "invitation.html": PackageResources.invitation_html_mustache,
        ]
        for name in Self.templateNames {
            var source = String(decoding: builtIn[name]!, as: UTF8.self)
            var origin = "built-in template \(name)"
            if let dir = templatesDir ?? config.mail?.templatesDir {
                // Only the fixed names are read, so no template name can leave the folder.
                let path = (dir as NSString).appendingPathComponent("\(name).mustache")
                if let data = FileManager.default.contents(atPath: path) {
                    source = String(decoding: data, as: UTF8.self)
                    origin = path
                }
            }
            do {
                try library.register(source, named: name)
            } catch {
                throw .input(InputIssue(file: origin, "the template does not parse: \(error)"))
            }
        }
        self.library = library
    }

    /// The name to greet a rep by: their `preferred_name`, else their whole name ("Mei Lin
    /// Tan": no first word is a given name in every culture), or for a name written family
    /// name first with a comma ("O'Brien, Tom", "Tan, Mei Lin") what follows the comma.
    static func greetingName(_ rep: Rep) -> String {
        if let preferred = rep.preferredName?.trimmingCharacters(in: .whitespaces), !preferred.isEmpty { return preferred }
        guard let full = rep.name?.trimmingCharacters(in: .whitespaces), !full.isEmpty else { return rep.email }
        if let comma = full.firstIndex(of: ","), case let after = full[full.index(after: comma)...].trimmingCharacters(in: .whitespaces),
           !after.isEmpty {
            return after
        }
        return full
    }

    /// Where the name and the link go in a rendered template: private-use characters that
    /// no text holds and no case transform changes.
    static let nameMark = "\u{E000}\u{E001}\u{E000}"
    static let linkMark = "\u{E000}\u{E002}\u{E000}"
    /// Rendered templates by language, kind, survey and closing date.
    let renderCache = BoundedCache<String, (text: Filled, html: Filled)>(limit: 256)
    /// "Closes on …" lines by language, date locale, zone and time.
    let closesCache = BoundedCache<String, String>(limit: 1024)

    /// The personal page of an invitation.
    public func link(token: String) -> String { "\(baseURL)/s/\(token)" }

    public func render(_ draft: MessageDraft, now: Date) throws(PulseError) -> RenderedMessage {
        guard let to = MailAddress(parsing: draft.rep.email) else {
            throw .input(InputIssue(file: "roster", field: "email", "\(draft.rep.email) is not an address mail can go to"))
        }
        let (lang, s) = MailStrings.forLocale(draft.rep.locale)
        let title = draft.survey.title.text(for: draft.rep.locale)
        let name = Self.greetingName(draft.rep)
        let zone = draft.rep.timezone.flatMap { TimeZone(identifier: $0) != nil ? $0 : nil } ?? defaultZone ?? PulseConfig.Default.timezone
        let dateLocale = DateLocale.identifier(locale: draft.rep.locale, region: draft.rep.region, timezone: zone)
        // The period as the reader names it ("week of 23 November 2026", "ไตรมาสที่ 1 ปี 2570"), not its code.
        let periodName = PeriodNames.name(draft.period, lang: lang, dateLocale: dateLocale)
        let subject = fill(draft.kind == .reminder ? s.reminderSubject : s.subject, title, periodName)
        let link = link(token: draft.token)
        var closes: String?
        if let date = draft.closesAt {
            // The rep's own date and time, with the zone named: a rep without a zone of
            // their own reads it in the company's. English is written the way of the rep's
            // country (see `DateLocale`).
            // A round's invitations mostly close at one time: formatted once per language,
            // date locale and zone.
            let key = "\(lang)|\(dateLocale)|\(zone)|\(date.timeIntervalSince1970)"
            if let known = closesCache[key] {
                closes = known
            } else {
                let f = formatters.formatter(locale: dateLocale, zone: zone)
                // Some languages end a date with a dot ("27 ноября 2026 г."): no second one.
                closes = fill(s.closes, "\(f.string(from: date)) (\(zone))").replacingOccurrences(of: "..", with: ".")
                closesCache[key] = closes
            }
        }
        // The templates are rendered once per language, kind, survey and closing date with
        // marks where the rep's name and link go, then the marks are replaced per message:
        // a round of thousands renders a handful of times.
        let enps = draft.survey.enpsQuestion
        let enpsQuestion = enps?.text.text(for: draft.rep.locale)
        // The scale's ends as the survey labels them, in the rep's language.
        let ends = enps.map { q in
            [0, 10].map { point in q.labels?[String(point)].map { "\(point) = \($0.text(for: draft.rep.locale))" } }
        }
        let cacheKey = [lang, draft.kind.rawValue, draft.survey.id, title, draft.survey.anonymity.rawValue,
                        enpsQuestion ?? "", closes ?? "", ends?[0] ?? "", ends?[1] ?? ""].joined(separator: "\u{1F}")
        let rendered: (text: Filled, html: Filled)
        if let cached = renderCache[cacheKey] {
            rendered = cached
        } else {
            var context: [String: Any] = [
                "lang": lang,
                "title": title,
                "greeting": fill(s.greeting, Self.nameMark),
                "intro": draft.kind == .reminder ? s.reminderIntro : fill(s.intro, organization),
                "answer_label": s.answer,
                "link": Self.linkMark,
                "visibility_title": s.visibilityTitle,
                "visibility": draft.survey.anonymity == .anonymous ? fill(s.anonymous, String(minGroupSize)) : s.identified,
                "footer": s.footer,
            ]
            if let enpsQuestion {
                var e: [String: Any] = [
                    "question": enpsQuestion,
                    "scale": (0...10).map { ["score": String($0), "link": "\(Self.linkMark)/enps/\($0)"] },
                ]
                if let low = ends?[0] { e["low_label"] = low }
                if let high = ends?[1] { e["high_label"] = high }
                context["enps"] = e
            }
            if let closes { context["closes"] = closes }
            guard let text = library.render(context, withTemplate: "invitation.txt"),
                  let html = library.render(context, withTemplate: "invitation.html") else {
                throw .runtime("the mail templates did not render")
            }
            rendered = (Filled(text), Filled(html))
            renderCache[cacheKey] = rendered
        }
        let text = rendered.text.fill(name: name, link: link)
        let html = rendered.html.fill(name: htmlEscaped(name), link: htmlEscaped(link))
        var rng = SystemRandomNumberGenerator()
        let domain = from.address.split(separator: "@").last.map(String.init) ?? "pulse.local"
        let messageID = "\(String(UInt64.random(in: 0...UInt64.max, using: &rng), radix: 36)).\(draft.invitationID).\(draft.kind.rawValue)@\(domain)"
        let data = MIME.message(from: from, to: MailAddress(name: draft.rep.name, address: to.address), subject: subject,
                                messageID: messageID, date: now, text: text, html: html,
                                extraHeaders: [("Auto-Submitted", "auto-generated")])
        return RenderedMessage(messageID: messageID, sender: from.address, recipient: to.address, subject: subject, data: data,
                                text: text)
    }
}

/// Long-date-and-time formatters by language and time zone: making one costs more than
/// rendering a whole message, and a round has only a few combinations.
final class DateFormatters: @unchecked Sendable {
    private let lock = NSLock()
    private var cache: [String: DateFormatter] = [:]

    /// A formatter for one thread at a time: the composer renders inside one transaction.
    func formatter(locale: String, zone: String?) -> DateFormatter {
        lock.withLock {
            let key = "\(locale)|\(zone ?? "")"
            if let f = cache[key] { return f }
            let f = DateFormatter()
            f.locale = Locale(identifier: locale)
            f.timeZone = zone.flatMap(TimeZone.init(identifier:)) ?? TimeZone(identifier: "UTC")
            f.dateStyle = .long
            f.timeStyle = .short
            cache[key] = f
            return f
        }
    }
}

/// A rendered template cut at its name and link marks, ready to be filled per message.
struct Filled: Sendable {
    enum Piece: Sendable { case literal(String), name, link }
    let pieces: [Piece]
    let size: Int

    init(_ rendered: String) {
        var pieces: [Piece] = []
        var rest = Substring(rendered)
        while let range = rest.range(of: "\u{E000}") {
            let after = rest[range.upperBound...]
            let mark: Piece? = after.hasPrefix("\u{E001}\u{E000}") ? .name : after.hasPrefix("\u{E002}\u{E000}") ? .link : nil
            guard let mark else {
                pieces.append(.literal(String(rest[..<range.upperBound])))
                rest = after
                continue
            }
            pieces.append(.literal(String(rest[..<range.lowerBound])))
            pieces.append(mark)
            rest = after.dropFirst(2)
        }
        pieces.append(.literal(String(rest)))
        self.pieces = pieces
        size = rendered.utf8.count
    }

    func fill(name: String, link: String) -> String {
        var out = ""
        out.reserveCapacity(size + 256)
        for p in pieces {
            switch p {
            case let .literal(s): out += s
            case .name: out += name
            case .link: out += link
            }
        }
        return out
    }
}
