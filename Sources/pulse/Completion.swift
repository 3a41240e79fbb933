import ArgumentParser
import Foundation
import PulseCore

extension CompletionKind {
    /// The ids of the surveys in the folder the command line names (`--surveys`), or
    /// PULSE_SURVEYS's, or ./Surveys, completed by the shell while a person types.
    static var surveyIDs: CompletionKind {
        .custom { words, _, prefix in SurveyCompletion.ids(words: words).filter { $0.hasPrefix(prefix) } }
    }

    /// CSV files (and folders, to walk into).
    static var csvFile: CompletionKind { .file(extensions: ["csv", "tsv", "txt"]) }
}

enum SurveyCompletion {
    /// Each survey id: a file's `id:` line, or its name without `.yaml`; the shipped
    /// ids when the folder has none. Nothing is validated: completion must be quick and
    /// never fail.
    static func ids(words: [String], environment: [String: String] = ProcessInfo.processInfo.environment) -> [String] {
        var folder = environment["PULSE_SURVEYS"].flatMap { $0.isEmpty ? nil : $0 } ?? "./Surveys"
        if let i = words.firstIndex(of: "--surveys"), i + 1 < words.count { folder = words[i + 1] }
        if let given = words.first(where: { $0.hasPrefix("--surveys=") }) { folder = String(given.dropFirst("--surveys=".count)) }
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [])
            .filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }
        var ids = Set<String>()
        for name in files {
            let path = (folder as NSString).appendingPathComponent(name)
            let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
            let declared = text.split(separator: "\n").lazy.compactMap { line -> String? in
                guard line.hasPrefix("id:") else { return nil }
                let v = line.dropFirst(3).trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\"'"))
                return v.isEmpty ? nil : v
            }.first
            ids.insert(declared ?? String(name.prefix { $0 != "." }))
        }
        if ids.isEmpty { ids = Set(DefaultSurveys.all.map { String($0.name.prefix { $0 != "." }) }) }
        return ids.sorted()
    }
}
