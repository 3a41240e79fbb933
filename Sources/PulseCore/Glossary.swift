import Foundation
import Yams

/// The terms Pulse uses per language and the variants it avoids (`docs/glossary.yaml`),
/// and a check of texts against them: the tests run it over every shipped survey and
/// strings table, so a translation cannot drift from the glossary unnoticed.
public struct Glossary: Sendable {
    public struct Term: Sendable {
        public var name: String
        /// Language → the forms that count as using the term.
        public var forms: [String: [String]]
    }

    public struct Avoided: Sendable {
        public var lang: String
        public var text: String
        public var use: String
        public var why: String
    }

    /// One text in several languages: a survey's question, a strings table's field.
    public struct Item: Sendable {
        public var place: String
        public var texts: [String: String]
        public init(place: String, texts: [String: String]) { self.place = place; self.texts = texts }
    }

    public static let languages = ["en", "th", "ms", "ru"]

    public var terms: [Term]
    public var avoid: [Avoided]

    /// - Throws: `PulseError` when the file is not a glossary as described at its top.
    public init(yaml: String, file: String = "glossary.yaml") throws(PulseError) {
        let root: Any?
        do { root = try Yams.load(yaml: yaml) } catch { throw .input(InputIssue(file: file, "is not YAML: \(error)")) }
        guard let top = root as? [String: Any], let terms = top["terms"] as? [String: Any], let avoid = top["avoid"] as? [Any] else {
            throw .input(InputIssue(file: file, "needs `terms` (a map) and `avoid` (a list)"))
        }
        self.terms = try terms.keys.sorted().map { name throws(PulseError) in
            guard let langs = terms[name] as? [String: Any] else { throw .input(InputIssue(file: file, field: name, "is not a map of languages")) }
            var forms: [String: [String]] = [:]
            for (lang, value) in langs {
                if let s = value as? String { forms[lang] = [s] } else if let list = value as? [Any] { forms[lang] = list.map { "\($0)" } }
            }
            guard forms["en"]?.isEmpty == false else { throw .input(InputIssue(file: file, field: name, "has no English form")) }
            return Term(name: name, forms: forms)
        }
        self.avoid = try avoid.map { entry throws(PulseError) in
            guard let e = entry as? [String: Any], let lang = e["lang"] as? String, let text = e["text"].map({ "\($0)" }) else {
                throw .input(InputIssue(file: file, field: "avoid", "each entry needs lang and text"))
            }
            return Avoided(lang: lang, text: text, use: e["use"].map { "\($0)" } ?? "", why: e["why"].map { "\($0)" } ?? "")
        }
    }

    /// What in `items` goes against the glossary: a term's English without the same
    /// term in another language of the same item, a variant to avoid, a language missing.
    /// Empty when all is well.
    /// - Parameter requireAll: whether every item must be written in all four languages.
    public func problems(in items: [Item], requireAll: Bool = true) -> [String] {
        var out: [String] = []
        for item in items {
            if requireAll {
                let missing = Self.languages.filter { item.texts[$0] == nil }
                if !missing.isEmpty { out.append("\(item.place): no \(missing.joined(separator: ", ")) text") }
            }
            if let en = item.texts["en"]?.lowercased() {
                for term in terms where term.forms["en"]!.contains(where: { en.contains($0.lowercased()) }) {
                    for lang in Self.languages where lang != "en" {
                        guard let text = item.texts[lang]?.lowercased(), let forms = term.forms[lang] else { continue }
                        if !forms.contains(where: { text.contains($0.lowercased()) }) {
                            out.append("\(item.place) \(lang): the English says \"\(term.name)\"; this text has none of \(forms.map { "\"\($0)\"" }.joined(separator: ", "))")
                        }
                    }
                }
            }
            for a in avoid {
                guard let text = item.texts[a.lang], Self.contains(text, a.text, wholeWords: a.lang != "th") else { continue }
                out.append("\(item.place) \(a.lang): \"\(a.text)\" (\(a.why)); use \"\(a.use)\"")
            }
        }
        return out
    }

    /// Whether `text` holds `word`, ignoring case: anywhere, or (`wholeWords`) not inside
    /// another word, or at a word's start when `word` ends with `*`.
    static func contains(_ text: String, _ word: String, wholeWords: Bool) -> Bool {
        let stem = word.hasSuffix("*")
        let needle = (stem ? String(word.dropLast()) : word).lowercased()
        let haystack = text.lowercased()
        guard wholeWords else { return haystack.contains(needle) }
        var from = haystack.startIndex
        while let r = haystack.range(of: needle, range: from..<haystack.endIndex) {
            let before = r.lowerBound == haystack.startIndex ? nil : haystack[haystack.index(before: r.lowerBound)]
            let after = r.upperBound == haystack.endIndex ? nil : haystack[r.upperBound]
            if before?.isLetter != true && (stem || after?.isLetter != true) { return true }
            from = haystack.index(after: r.lowerBound)
        }
        return false
    }

    /// The texts of a survey definition as glossary items, named by `file`.
    public static func items(of survey: SurveyDefinition, file: String) -> [Item] {
        var items = [Item(place: "\(file) title", texts: survey.title.texts)]
        if let intro = survey.intro { items.append(Item(place: "\(file) intro", texts: intro.texts)) }
        for q in survey.questions {
            items.append(Item(place: "\(file) \(q.id).text", texts: q.text.texts))
            for (point, label) in (q.labels ?? [:]).sorted(by: { $0.key < $1.key }) {
                items.append(Item(place: "\(file) \(q.id).labels.\(point)", texts: label.texts))
            }
            for o in q.options ?? [] { items.append(Item(place: "\(file) \(q.id).options.\(o.id)", texts: o.text.texts)) }
        }
        return items
    }

    /// The string fields of a strings table (one value per language, all of one struct
    /// type) as glossary items, one per field.
    public static func items<T>(ofTable table: [String: T], name: String) -> [Item] {
        var fields: [String: [String: String]] = [:]
        var order: [String] = []
        for (lang, strings) in table {
            for child in Mirror(reflecting: strings).children {
                guard let label = child.label, let value = child.value as? String else { continue }
                if fields[label] == nil { order.append(label) }
                fields[label, default: [:]][lang] = value
            }
        }
        return order.sorted().map { Item(place: "\(name).\($0)", texts: fields[$0]!) }
    }
}
