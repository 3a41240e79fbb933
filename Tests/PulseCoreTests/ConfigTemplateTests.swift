import Foundation
import Testing
@testable import PulseCore

/// `pulse init`'s pulse.yaml: every key commented out, each showing the value Pulse uses
/// without it.
@Suite struct ConfigTemplateTests {
    /// The template with its commented keys (`# key: value`, `#   key: value`) uncommented.
    static var uncommented: String {
        PulseConfig.template.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            guard line.wholeMatch(of: #/# ( *)[a-z_]+:( .*)?/#) != nil else { return String(line) }
            return String(line.dropFirst(2))
        }.joined(separator: "\n")
    }

    @Test func asWrittenEveryKeyIsCommentedOut() throws {
        #expect(try PulseConfig.load(yaml: PulseConfig.template, file: "pulse.yaml") == PulseConfig())
    }

    /// Uncommented, the template sets each key to the default the code uses.
    @Test func eachCommentedValueIsTheDefault() throws {
        let c = try PulseConfig.load(yaml: Self.uncommented, file: "pulse.yaml")
        typealias D = PulseConfig.Default
        #expect(c.organization == D.organization && c.baseURL == D.baseURL && c.timezone == D.timezone)
        #expect(c.minGroupSize == D.minGroupSize && c.anonymityThreshold == PulseConfig().anonymityThreshold)
        let mail = try #require(c.mail), smtp = try #require(c.mail?.smtp)
        #expect(mail.transport == D.transport && mail.outboxDir == D.outboxDir && mail.from == D.from && mail.templatesDir == nil)
        #expect(smtp.url == D.smtpURL && smtp.tls == D.tls && smtp.user == nil && smtp.passwordEnv == D.passwordEnv && smtp.caFile == nil)
        #expect(smtp.timeoutSeconds == D.timeoutSeconds && smtp.maxConnections == D.maxConnections && smtp.ratePerMinute == D.ratePerMinute)
        #expect(smtp.maxAttempts == D.maxAttempts && smtp.retryBaseSeconds == D.retryBaseSeconds)
        #expect(c.reminders?.max == D.reminderMax && c.reminders?.minDaysApart == D.reminderMinDaysApart)
        #expect(c.prepThresholds == PrepThresholds())
    }

    /// Every key of the configuration is in the template: uncommented, nothing is left
    /// unset but the keys that have no default (shown empty).
    @Test func everyKeyIsInTheTemplate() throws {
        let c = try PulseConfig.load(yaml: Self.uncommented, file: "pulse.yaml")
        var unset: [String] = []
        func walk(_ value: Any, _ path: String) {
            for child in Mirror(reflecting: value).children {
                let name = path + "." + (child.label ?? "?")
                let inner = Mirror(reflecting: child.value)
                if inner.displayStyle == .optional {
                    guard let some = inner.children.first?.value else { unset.append(name); continue }
                    if Mirror(reflecting: some).displayStyle == .struct { walk(some, name) }
                }
            }
        }
        walk(c, "")
        #expect(unset.sorted() == [".mail.smtp.caFile", ".mail.smtp.user", ".mail.templatesDir"], "\(unset)")
    }

    /// The demo's configuration differs in its company's name and zone only.
    @Test func theDemoNamesItsCompany() throws {
        var demo = try PulseConfig.load(yaml: PulseConfig.demoTemplate, file: "pulse.yaml")
        #expect(demo.organization == "Acme Sales" && demo.timezone == "Europe/London")
        demo.organization = nil
        demo.timezone = nil
        #expect(demo == PulseConfig())
    }
}
