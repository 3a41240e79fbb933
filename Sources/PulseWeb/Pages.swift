import Foundation
import Mustache
import PulseCore
import PulseStore

/// The words of the answer pages in each language Pulse writes them in.
struct PageStrings: Sendable {
    var submit: String
    var optional: String
    var required: String
    var errorsTitle: String
    var saved: String
    var visibilityTitle: String
    var identified: String
    var anonymous: String          // threshold
    var closes: String             // date
    var thanksTitle: String
    var thanks: String
    var thanksUntil: String        // date
    var change: String
    var closedTitle: String
    var closed: String
    var answeredTitle: String
    /// After an anonymous answer: recorded, and why the link shows and changes nothing.
    var recorded: String

    static let all: [String: PageStrings] = [
        "en": PageStrings(
            submit: "Send my answers", optional: "(optional)", required: "Please answer this question.",
            errorsTitle: "Some answers need another look.", saved: "Your answers are saved; you can change them below.",
            visibilityTitle: "Who sees your answers:",
            identified: "your manager sees them with your name; they help prepare your one-on-one.",
            anonymous: "Pulse reports the answers to this survey only for groups of at least %@ people, never one by one.",
            closes: "Open until %@.", thanksTitle: "Thank you", thanks: "Your answers are saved.",
            thanksUntil: "You can change them with the same link until %@.", change: "Change my answers",
            closedTitle: "This survey is closed", closed: "Answers can no longer be given or changed for this round.",
            answeredTitle: "Already answered",
            recorded: "Your answer is recorded. It is not shown here and cannot be changed: it is kept with no link to you, so this link cannot find it again, and no one who has the link can see it."),
        "th": PageStrings(
            submit: "ส่งคำตอบ", optional: "(ไม่บังคับ)", required: "โปรดตอบคำถามนี้",
            errorsTitle: "มีคำตอบบางข้อที่ต้องตรวจสอบอีกครั้ง", saved: "บันทึกคำตอบของคุณแล้ว คุณสามารถแก้ไขได้ด้านล่าง",
            visibilityTitle: "ใครเห็นคำตอบของคุณ:",
            identified: "ผู้จัดการของคุณจะเห็นคำตอบพร้อมชื่อของคุณ เพื่อใช้เตรียมการพูดคุยแบบตัวต่อตัว",
            anonymous: "Pulse รายงานคำตอบของแบบสำรวจนี้เฉพาะเป็นกลุ่มที่มีอย่างน้อย %@ คน ไม่แสดงทีละคน",
            closes: "เปิดรับคำตอบถึง %@", thanksTitle: "ขอบคุณ", thanks: "บันทึกคำตอบของคุณแล้ว",
            thanksUntil: "คุณสามารถแก้ไขคำตอบได้ด้วยลิงก์เดิมจนถึง %@", change: "แก้ไขคำตอบ",
            closedTitle: "แบบสำรวจนี้ปิดแล้ว", closed: "ไม่สามารถตอบหรือแก้ไขคำตอบสำหรับรอบนี้ได้อีก",
            answeredTitle: "มีคำตอบแล้ว",
            recorded: "บันทึกคำตอบของคุณแล้ว คำตอบจะไม่แสดงที่นี่และแก้ไขไม่ได้ เพราะจัดเก็บโดยไม่เชื่อมโยงกับตัวคุณ ลิงก์นี้จึงหาคำตอบไม่พบอีก และผู้ที่มีลิงก์นี้ก็มองไม่เห็นคำตอบ"),
        "ms": PageStrings(
            submit: "Hantar jawapan saya", optional: "(tidak wajib)", required: "Sila jawab soalan ini.",
            errorsTitle: "Beberapa jawapan perlu disemak semula.", saved: "Jawapan anda telah disimpan; anda boleh mengubahnya di bawah.",
            visibilityTitle: "Siapa yang melihat jawapan anda:",
            identified: "pengurus anda melihatnya bersama nama anda; ia membantu menyediakan sesi empat mata anda.",
            anonymous: "Pulse melaporkan jawapan tinjauan ini hanya bagi kumpulan sekurang-kurangnya %@ orang, tidak pernah secara individu.",
            closes: "Dibuka sehingga %@.", thanksTitle: "Terima kasih", thanks: "Jawapan anda telah disimpan.",
            thanksUntil: "Anda boleh mengubahnya dengan pautan yang sama sehingga %@.", change: "Ubah jawapan saya",
            closedTitle: "Tinjauan ini telah ditutup", closed: "Jawapan tidak lagi boleh diberi atau diubah bagi tinjauan kali ini.",
            answeredTitle: "Sudah dijawab",
            recorded: "Jawapan anda telah direkodkan. Ia tidak dipaparkan di sini dan tidak boleh diubah: ia disimpan tanpa kaitan dengan anda, jadi pautan ini tidak dapat menemuinya semula, dan sesiapa yang memegang pautan ini tidak dapat melihatnya."),
        "ru": PageStrings(
            submit: "Отправить ответы", optional: "(необязательно)", required: "Пожалуйста, ответьте на этот вопрос.",
            errorsTitle: "Некоторые ответы нужно проверить.", saved: "Ваши ответы сохранены; их можно изменить ниже.",
            visibilityTitle: "Кто видит ваши ответы:",
            identified: "ваш руководитель видит их вместе с вашим именем; они помогают подготовить встречу один на один.",
            anonymous: "Pulse показывает ответы на этот опрос только по группам не меньше %@ человек, никогда по отдельности.",
            closes: "Открыт до %@.", thanksTitle: "Спасибо", thanks: "Ваши ответы сохранены.",
            thanksUntil: "Их можно изменить по той же ссылке до %@.", change: "Изменить ответы",
            closedTitle: "Опрос закрыт", closed: "Ответить на этот опрос или изменить ответы больше нельзя.",
            answeredTitle: "Ответ уже есть",
            recorded: "Ваш ответ записан. Он не показывается здесь и не может быть изменён: он хранится без связи с вами, поэтому по этой ссылке его больше не найти, и тот, у кого есть ссылка, его не увидит."),
    ]

    static func forLocale(_ locale: String?) -> (String, PageStrings) {
        let language = languageCode(locale)
        if let s = all[language] { return (language, s) }
        return ("en", all["en"]!)
    }
}

/// The words of the pages given when no survey opens (404, 413, 400, 429). Nothing says
/// whose link it was, so the language is the browser's (`Accept-Language`).
struct ErrorStrings: Sendable {
    var notFoundTitle: String
    var notFound: String
    var tooLargeTitle: String
    var tooLarge: String
    var badRequestTitle: String
    var badRequest: String
    var tooManyTitle: String
    var tooMany: String

    static let all: [String: ErrorStrings] = [
        "en": ErrorStrings(
            notFoundTitle: "Page not found",
            notFound: "This link does not open a survey. Check that the whole link from your mail was copied.",
            tooLargeTitle: "Too large", tooLarge: "The answers sent were larger than a survey allows.",
            badRequestTitle: "Bad request", badRequest: "The answers sent could not be read as a form.",
            tooManyTitle: "Too many requests",
            tooMany: "Too many links that do not open a survey came from this address. Check the link in your mail."),
        "th": ErrorStrings(
            notFoundTitle: "ไม่พบหน้านี้",
            notFound: "ลิงก์นี้ไม่ได้เปิดแบบสำรวจ โปรดตรวจสอบว่าคัดลอกลิงก์จากอีเมลมาครบทั้งหมด",
            tooLargeTitle: "ข้อมูลใหญ่เกินไป", tooLarge: "คำตอบที่ส่งมามีขนาดใหญ่เกินกว่าที่แบบสำรวจรับได้",
            badRequestTitle: "คำขอไม่ถูกต้อง", badRequest: "ไม่สามารถอ่านคำตอบที่ส่งมาเป็นแบบฟอร์มได้",
            tooManyTitle: "มีคำขอมากเกินไป",
            tooMany: "มีลิงก์ที่ไม่ได้เปิดแบบสำรวจส่งมาจากที่อยู่นี้มากเกินไป โปรดตรวจสอบลิงก์ในอีเมลของคุณ"),
        "ms": ErrorStrings(
            notFoundTitle: "Halaman tidak ditemui",
            notFound: "Pautan ini tidak membuka tinjauan. Pastikan seluruh pautan daripada e-mel anda telah disalin.",
            tooLargeTitle: "Terlalu besar", tooLarge: "Jawapan yang dihantar lebih besar daripada yang dibenarkan oleh tinjauan.",
            badRequestTitle: "Permintaan tidak sah", badRequest: "Jawapan yang dihantar tidak dapat dibaca sebagai borang.",
            tooManyTitle: "Terlalu banyak permintaan",
            tooMany: "Terlalu banyak pautan yang tidak membuka tinjauan datang dari alamat ini. Semak pautan dalam e-mel anda."),
        "ru": ErrorStrings(
            notFoundTitle: "Страница не найдена",
            notFound: "Эта ссылка не открывает опрос. Проверьте, что ссылка из письма скопирована целиком.",
            tooLargeTitle: "Слишком большой запрос", tooLarge: "Отправленные ответы больше, чем допускает опрос.",
            badRequestTitle: "Неверный запрос", badRequest: "Отправленные ответы не удалось прочитать как форму.",
            tooManyTitle: "Слишком много запросов",
            tooMany: "С этого адреса пришло слишком много ссылок, которые не открывают опрос. Проверьте ссылку в письме."),
    ]

    /// The strings for the browser's languages, best first by their `q` (a language with
    /// `q=0` is refused); English when none of Pulse's languages is asked for.
    static func forAcceptLanguage(_ header: String?) -> (String, ErrorStrings) {
        let lang = preferredLanguage(header, among: Set(all.keys)) ?? "en"
        return (lang, all[lang]!)
    }

    /// The first of `available` in an `Accept-Language` header (RFC 9110 12.5.4), by
    /// weight and, among equal weights, in the order written.
    static func preferredLanguage(_ header: String?, among available: Set<String>) -> String? {
        guard let header else { return nil }
        var ranked: [(lang: String, q: Double, index: Int)] = []
        for (i, part) in header.split(separator: ",").enumerated() {
            let fields = part.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let tag = fields.first, !tag.isEmpty, tag != "*" else { continue }
            var q = 1.0
            for f in fields.dropFirst() where f.lowercased().hasPrefix("q=") {
                q = Double(f.dropFirst(2)) ?? 0
            }
            guard q > 0 else { continue }
            ranked.append((languageCode(tag), q, i))
        }
        ranked.sort { $0.q != $1.q ? $0.q > $1.q : $0.index < $1.index }
        return ranked.first { available.contains($0.lang) }?.lang
    }
}

func fill(_ pattern: String, _ value: String) -> String {
    pattern.replacingOccurrences(of: "%@", with: value)
}

/// Renders the answer pages from the Mustache templates embedded in the binary. Every
/// value goes through `{{ }}`, which escapes HTML: names, comments and survey texts
/// can never become markup.
struct PageRenderer: Sendable {
    let library: MustacheLibrary
    let organization: String
    let minGroupSize: Int

    init(organization: String, minGroupSize: Int) throws {
        var library = MustacheLibrary()
        try library.register(String(decoding: PackageResources.survey_mustache, as: UTF8.self), named: "survey")
        try library.register(String(decoding: PackageResources.message_mustache, as: UTF8.self), named: "message")
        self.library = library
        self.organization = organization
        self.minGroupSize = minGroupSize
    }

    static let css = String(decoding: PackageResources.pulse_css, as: UTF8.self)

    let formatters = Formatters()

    /// A date and time in the rep's zone, written the way of their language and country.
    func date(_ d: Date, rep: Rep) -> String {
        formatters.string(d, locale: DateLocale.identifier(locale: rep.locale, region: rep.region, timezone: rep.timezone),
                          zone: rep.timezone)
    }

    /// The survey form, with `values` filled in (what was stored, or what was just posted)
    /// and `errors` beside their questions.
    func survey(_ invitation: Invitation, token: String, values: [String: String], errors: [String: String],
                saved: Bool) -> String {
        // The page without errors is rendered once per survey version, language, time zone
        // and state, with marks where the token and the answers go (see `MarkedPage`).
        guard errors.isEmpty else {
            return render(invitation, token: token, values: values, errors: errors, saved: saved, marked: false)
        }
        let key = "\(invitation.round.id)|\(invitation.rep.locale ?? "")|\(invitation.rep.region ?? "")|\(invitation.rep.timezone ?? "")|\(saved)"
        let page: MarkedPage
        if let cached = pageCache[key] {
            page = cached
        } else {
            page = MarkedPage(render(invitation, token: MarkedPage.tokenMark, values: [:], errors: [:], saved: saved, marked: true))
            pageCache[key] = page
        }
        return page.fill(token: token, values: values)
    }

    /// Rendered pages by round, language, region, time zone and state.
    let pageCache = BoundedCache<String, MarkedPage>(limit: 512)

    private func render(_ invitation: Invitation, token: String, values: [String: String], errors: [String: String],
                        saved: Bool, marked: Bool) -> String {
        let locale = invitation.rep.locale
        let (lang, s) = PageStrings.forLocale(locale)
        let d = invitation.definition
        let questions: [[String: Any]] = d.questions.map { q in
            var item: [String: Any] = ["id": q.id, "text": q.text.text(for: locale), "optional": q.isOptional,
                                       "optional_label": s.optional]
            if let e = errors[q.id] { item["error"] = e }
            let value = values[q.id]
            switch q.type {
            case .scale, .enps:
                let b = q.bounds!
                let low = q.labels?[String(b.lowerBound)]?.text(for: locale), high = q.labels?[String(b.upperBound)]?.text(for: locale)
                let options: [[String: Any]] = b.map { point in
                    var option: [String: Any] = [
                        "name": q.id, "input_id": "q-\(q.id)-\(point)", "value": String(point), "label": String(point),
                        "checked": marked ? MarkedPage.checkedMark(q.id, String(point)) : value == String(point) ? " checked" : "",
                        "required": !q.isOptional]
                    // The end points' labels go into their radios' names: the visible ends are
                    // hidden from screen readers, which would otherwise hear "1" to "5" alone.
                    if let end = point == b.lowerBound ? low : point == b.upperBound ? high : nil { option["end"] = end }
                    return option
                }
                var choices: [String: Any] = ["class": q.type == .enps ? "enps" : "scale", "options": options]
                if low != nil || high != nil {
                    choices["ends"] = ["low": "\(b.lowerBound) = \(low ?? "")", "high": "\(b.upperBound) = \(high ?? "")"]
                }
                item["choices"] = choices
            case .choice:
                let options: [[String: Any]] = (q.options ?? []).enumerated().map { i, o in
                    ["name": q.id, "input_id": "q-\(q.id)-\(i)", "value": o.id, "label": o.text.text(for: locale),
                     "checked": marked ? MarkedPage.checkedMark(q.id, o.id) : value == o.id ? " checked" : "",
                     "required": !q.isOptional]
                }
                item["choices"] = ["class": "choice", "options": options] as [String: Any]
            case .text:
                item["textarea"] = ["name": q.id, "text": q.text.text(for: locale),
                                    "value": marked ? MarkedPage.textMark(q.id) : value ?? "",
                                    "max": Question.maxTextLength] as [String: Any]
            }
            return item
        }
        var context: [String: Any] = [
            "lang": lang, "title": d.title.text(for: locale), "organization": organization,
            "period": PeriodNames.name(invitation.round.period, lang: lang, dateLocale: DateLocale.identifier(
                locale: invitation.rep.locale, region: invitation.rep.region, timezone: invitation.rep.timezone)),
            "token": token,
            "visibility_title": s.visibilityTitle,
            "visibility": d.anonymity == .anonymous ? fill(s.anonymous, String(max(minGroupSize, invitation.round.minGroupSize ?? 0))) : s.identified,
            "questions": questions, "submit": s.submit, "has_errors": !errors.isEmpty, "errors_title": s.errorsTitle,
            // The error summary links each question to correct, in the page's order.
            "error_list": d.questions.filter { errors[$0.id] != nil }.map { ["id": $0.id, "text": $0.text.text(for: locale)] },
        ]
        if let intro = d.intro { context["intro"] = intro.text(for: locale) }
        if saved { context["saved"] = s.saved }
        if let closes = invitation.closesAt {
            context["closes"] = fill(s.closes, date(closes, rep: invitation.rep))
        }
        return library.render(context, withTemplate: "survey") ?? ""
    }

    func thanks(_ invitation: Invitation, token: String) -> String {
        let (lang, s) = PageStrings.forLocale(invitation.rep.locale)
        if invitation.definition.anonymity == .anonymous {
            return message(lang: lang, heading: s.thanksTitle, paragraphs: [s.recorded], link: nil)
        }
        var paragraphs = [s.thanks]
        if let closes = invitation.closesAt {
            paragraphs.append(fill(s.thanksUntil, date(closes, rep: invitation.rep)))
        }
        return message(lang: lang, heading: s.thanksTitle, paragraphs: paragraphs, link: ("/s/\(token)", s.change))
    }

    func closed(_ invitation: Invitation) -> String {
        let (lang, s) = PageStrings.forLocale(invitation.rep.locale)
        return message(lang: lang, heading: s.closedTitle, paragraphs: [s.closed], link: nil)
    }

    /// The link of an answered anonymous invitation: already answered, and why nothing is shown.
    func recorded(_ invitation: Invitation) -> String {
        let (lang, s) = PageStrings.forLocale(invitation.rep.locale)
        return message(lang: lang, heading: s.answeredTitle, paragraphs: [s.recorded], link: nil)
    }

    /// The same page for every link that does not open a survey, in the browser's
    /// language: it tells nothing about which tokens exist.
    func notFound(acceptLanguage: String?) -> String {
        let (lang, e) = ErrorStrings.forAcceptLanguage(acceptLanguage)
        return message(lang: lang, heading: e.notFoundTitle, paragraphs: [e.notFound], link: nil)
    }

    enum Refusal { case tooLarge, badRequest, tooMany }

    /// The page of a request refused before any survey is shown, in the browser's language.
    func refused(_ why: Refusal, acceptLanguage: String?) -> String {
        let (lang, e) = ErrorStrings.forAcceptLanguage(acceptLanguage)
        let (heading, text) = switch why {
        case .tooLarge: (e.tooLargeTitle, e.tooLarge)
        case .badRequest: (e.badRequestTitle, e.badRequest)
        case .tooMany: (e.tooManyTitle, e.tooMany)
        }
        return message(lang: lang, heading: heading, paragraphs: [text], link: nil)
    }

    func message(lang: String, heading: String, paragraphs: [String], link: (String, String)?) -> String {
        var context: [String: Any] = ["lang": lang, "heading": heading, "paragraphs": paragraphs]
        if let link { context["link"] = ["href": link.0, "label": link.1] }
        return library.render(context, withTemplate: "message") ?? ""
    }
}

/// Date formatters by language and time zone: making one costs more than a whole page.
/// DateFormatter is not safe to share between threads, so each use holds the lock.
final class Formatters: @unchecked Sendable {
    private let lock = NSLock()
    private var cache: [String: DateFormatter] = [:]

    func string(_ date: Date, locale: String, zone: String?) -> String {
        lock.withLock {
            let key = "\(locale)|\(zone ?? "")"
            let f: DateFormatter
            if let cached = cache[key] {
                f = cached
            } else {
                f = DateFormatter()
                f.locale = Locale(identifier: locale)
                f.timeZone = zone.flatMap(TimeZone.init(identifier:)) ?? TimeZone(identifier: "UTC")
                f.dateStyle = .long
                f.timeStyle = .short
                if cache.count > 200 { cache.removeAll() }
                cache[key] = f
            }
            return f.string(from: date)
        }
    }
}

/// A rendered survey page cut at its marks: the token, each choice's `checked`, each
/// text answer. Marks are private-use characters that no survey text holds, and none of
/// the characters HTML escaping changes, so they come through rendering intact.
struct MarkedPage: Sendable {
    enum Piece: Sendable {
        case literal(String)
        case token
        case checked(question: String, value: String)
        case text(question: String)
    }

    static let tokenMark = "\u{E000}k\u{E000}"
    static func checkedMark(_ question: String, _ value: String) -> String { "\u{E000}c\u{E001}\(question)\u{E001}\(value)\u{E000}" }
    static func textMark(_ question: String) -> String { "\u{E000}t\u{E001}\(question)\u{E000}" }

    let pieces: [Piece]
    let size: Int

    init(_ rendered: String) {
        var pieces: [Piece] = []
        let scalars = Array(rendered.unicodeScalars)
        var literal = String.UnicodeScalarView()
        var i = 0
        while i < scalars.count {
            guard scalars[i] == "\u{E000}", let end = scalars[(i + 1)...].firstIndex(of: "\u{E000}") else {
                literal.append(scalars[i]); i += 1; continue
            }
            let body = String(String.UnicodeScalarView(scalars[(i + 1)..<end]))
            let parts = body.split(separator: "\u{E001}", omittingEmptySubsequences: false).map(String.init)
            let piece: Piece?
            switch parts.first {
            case "k" where parts.count == 1: piece = .token
            case "c" where parts.count == 3: piece = .checked(question: parts[1], value: parts[2])
            case "t" where parts.count == 2: piece = .text(question: parts[1])
            default: piece = nil
            }
            guard let piece else { literal.append(scalars[i]); i += 1; continue }
            pieces.append(.literal(String(literal)))
            literal = String.UnicodeScalarView()
            pieces.append(piece)
            i = end + 1
        }
        pieces.append(.literal(String(literal)))
        self.pieces = pieces
        size = rendered.utf8.count
    }

    func fill(token: String, values: [String: String]) -> String {
        var out = ""
        out.reserveCapacity(size + 512)
        for p in pieces {
            switch p {
            case let .literal(s): out += s
            case .token: out += token
            case let .checked(q, v): if values[q] == v { out += " checked" }
            case let .text(q): out += htmlEscaped(values[q] ?? "")
            }
        }
        return out
    }
}
