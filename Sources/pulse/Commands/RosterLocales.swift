import PulseCore
import PulseStore

extension Pulse.Roster.Import {
    /// A warning per roster locale whose language the mail and pages, or a survey, are not
    /// written in: those reps read the fallback (English), which the manager should know
    /// before a send rather than from a rep.
    static func localeWarnings(_ reader: CSVReader, map: [String: String],
                               surveys: [String: SurveyDefinition]) throws(PulseError) -> [String] {
        let layout = try ColumnLayout(header: reader.header, file: reader.file, required: ["email"],
                                      optional: Array(AppDatabase.rosterColumns.dropFirst()), map: map)
        guard let index = layout.index("locale") else { return [] }
        var byLanguage: [String: (locale: String, line: Int, reps: Int)] = [:]
        try reader.forEachRecord { record throws(PulseError) in
            guard let locale = record.string(index)?.trimmingSpaces, !locale.isEmpty else { return }
            let language = languageCode(locale)
            if let known = byLanguage[language] {
                byLanguage[language]?.reps = known.reps + 1
            } else {
                byLanguage[language] = (locale, record.line, 1)
            }
        }
        var warnings: [String] = []
        for (language, use) in byLanguage.sorted(by: { $0.value.line < $1.value.line }) {
            var gaps: [String] = []
            if !pageLanguages.contains(language) {
                gaps.append("the mail and answer pages are not written in \(language) (they are in \(pageLanguages.sorted().joined(separator: ", ")))")
            }
            let without = surveys.values.filter { s in !s.title.locales.isEmpty && !s.title.locales.contains { languageCode($0) == language } }
                .map(\.id).sorted()
            if !without.isEmpty {
                gaps.append("\(without.count == 1 ? "the survey" : "the surveys") \(without.joined(separator: ", ")) \(without.count == 1 ? "has" : "have") no \(language) texts")
            }
            guard !gaps.isEmpty else { continue }
            warnings.append("\(reader.file):\(use.line): locale \"\(use.locale)\" (\(Plural.count(use.reps, "rep"))): "
                            + gaps.joined(separator: ", and ") + "; they read English where a text is missing")
        }
        return warnings
    }
}
