import Foundation
import Yams

/// `pulse.yaml`: every key optional, built-in defaults otherwise.
public struct PulseConfig: Codable, Sendable, Equatable {
    public var organization: String?
    public var baseURL: String?
    public var timezone: String?
    public var minGroupSize: Int?
    public var mail: Mail?
    public var reminders: Reminders?
    public var prep: Prep?
    public var database: Database?

    /// A PostgreSQL database's secrets: where each instance finds them in its environment
    /// (never in the URL, the file or the database).
    public struct Database: Codable, Sendable, Equatable {
        /// The variable holding the password (PGPASSWORD when not set).
        public var passwordEnv: String?
        /// The variable holding the token key, base64 (PULSE_TOKEN_KEY when not set).
        public var tokenKeyEnv: String?

        enum CodingKeys: String, CodingKey {
            case passwordEnv = "password_env"
            case tokenKeyEnv = "token_key_env"
        }
    }

    /// Thresholds of the one-on-one flags.
    public struct Prep: Codable, Sendable, Equatable {
        public var moraleDropPoints: Double?
        public var lowMorale: Double?
        public var nonResponseRounds: Int?
        public var quotaPace: Double?
        public var activityDrop: Double?
        public var highActivity: Double?
        public var moraleFallPoints: Double?
        public var lowConversion: Double?
        public var pipelineStall: Double?
        public var trendWeeks: Int?

        enum CodingKeys: String, CodingKey {
            case moraleDropPoints = "morale_drop_points", lowMorale = "low_morale", nonResponseRounds = "non_response_rounds"
            case quotaPace = "quota_pace", activityDrop = "activity_drop", highActivity = "high_activity"
            case moraleFallPoints = "morale_fall_points", lowConversion = "low_conversion", trendWeeks = "trend_weeks"
            case pipelineStall = "pipeline_stall"
        }
    }

    /// The flag thresholds, the file's where it gives them.
    public var prepThresholds: PrepThresholds {
        var t = PrepThresholds()
        if let v = prep?.moraleDropPoints { t.moraleDropPoints = v }
        if let v = prep?.lowMorale { t.lowMorale = v }
        if let v = prep?.nonResponseRounds { t.nonResponseRounds = v }
        if let v = prep?.quotaPace { t.quotaPace = v }
        if let v = prep?.activityDrop { t.activityDrop = v }
        if let v = prep?.highActivity { t.highActivity = v }
        if let v = prep?.moraleFallPoints { t.moraleFallPoints = v }
        if let v = prep?.lowConversion { t.lowConversion = v }
        if let v = prep?.pipelineStall { t.pipelineStall = v }
        if let v = prep?.trendWeeks { t.trendWeeks = v }
        return t
    }

    public struct Mail: Codable, Sendable, Equatable {
        public var transport: String?
        public var outboxDir: String?
        public var from: String?
        public var templatesDir: String?
        public var smtp: SMTP?

        enum CodingKeys: String, CodingKey {
            case transport, from, smtp
            case outboxDir = "outbox_dir"
            case templatesDir = "templates_dir"
        }
    }

    public struct SMTP: Codable, Sendable, Equatable {
        public var url: String?
        public var tls: String?
        public var user: String?
        public var passwordEnv: String?
        public var timeoutSeconds: Int?
        public var maxConnections: Int?
        public var ratePerMinute: Int?
        /// A CA certificate to trust (a private mail server's own certificate).
        public var caFile: String?
        public var maxAttempts: Int?
        public var retryBaseSeconds: Double?

        enum CodingKeys: String, CodingKey {
            case url, tls, user
            case caFile = "ca_file"
            case maxAttempts = "max_attempts"
            case retryBaseSeconds = "retry_base_seconds"
            case passwordEnv = "password_env"
            case timeoutSeconds = "timeout_seconds"
            case maxConnections = "max_connections"
            case ratePerMinute = "rate_per_minute"
        }
    }

    public struct Reminders: Codable, Sendable, Equatable {
        public var max: Int?
        public var minDaysApart: Int?

        enum CodingKeys: String, CodingKey {
            case max
            case minDaysApart = "min_days_apart"
        }
    }

    enum CodingKeys: String, CodingKey {
        case organization, timezone, mail, reminders, prep, database
        case baseURL = "base_url"
        case minGroupSize = "min_group_size"
    }

    public init() {}

    /// The anonymity threshold: at least 3 whatever the file says, 5 by default.
    public var anonymityThreshold: Int { Swift.max(3, minGroupSize ?? Default.minGroupSize) }

    /// Reads and validates a configuration.
    /// - Throws: `PulseError.invalidInput` naming the file, the line and the key.
    public static func load(yaml: String, file: String) throws(PulseError) -> PulseConfig {
        if let node = try? Yams.compose(yaml: yaml) {
            let oversized = YAMLSafety.oversizedBase60(in: node)
            guard oversized.isEmpty else {
                throw .invalidInput(oversized.map { InputIssue(file: file, line: $0, "a number written with colons (base 60) is too large") })
            }
        }
        let config: PulseConfig
        do {
            // A file of comments only (as `pulse init` writes it) holds no value: the defaults.
            let empty: Bool
            do { empty = try Yams.compose(yaml: yaml) == nil } catch { empty = false }
            config = try YAMLDecoder().decode(PulseConfig.self, from: yaml.isEmpty || empty ? "{}" : yaml)
        } catch let DecodingError.typeMismatch(_, c), let DecodingError.dataCorrupted(c), let DecodingError.valueNotFound(_, c) {
            let field = c.codingPath.map(\.stringValue).joined(separator: ".")
            let node = try? Yams.compose(yaml: yaml)
            let line = node.flatMap { SurveyDefinition.line(of: c.codingPath, in: $0) }
            throw .input(InputIssue(file: file, line: line, field: field.isEmpty ? nil : field, "has the wrong type"))
        } catch let YamlError.scanner(_, problem, mark, _), let YamlError.parser(_, problem, mark, _) {
            throw .input(InputIssue(file: file, line: mark.line, "not valid YAML: \(problem)"))
        } catch {
            throw .input(InputIssue(file: file, "not valid YAML: \(error)"))
        }
        var issues: [InputIssue] = []
        if let m = config.minGroupSize, m < 3 {
            issues.append(InputIssue(file: file, field: "min_group_size", "\(m) is too small to keep answers anonymous; use 3 or more"))
        }
        if let tz = config.timezone, TimeZone(identifier: tz) == nil {
            issues.append(InputIssue(file: file, field: "timezone", "\"\(tz)\" is not a time zone (like Europe/London)"))
        }
        if let t = config.mail?.transport, !["file", "smtp"].contains(t) {
            issues.append(InputIssue(file: file, field: "mail.transport", "\"\(t)\" is not file or smtp"))
        }
        if let url = config.mail?.smtp?.url, URLUserInfo.hasPassword(url) {
            // Not echoed: the value is the secret.
            let line = (try? Yams.compose(yaml: yaml)).flatMap { SurveyDefinition.line(of: ["mail", "smtp", "url"].map { AnyKey($0) as any CodingKey }, in: $0) }
            issues.append(InputIssue(file: file, line: line, field: "mail.smtp.url",
                "holds a password (USER:PASSWORD@ before the host), which Pulse never reads from a file: give the URL without it, "
                + "the user as mail.smtp.user, and the password in the environment variable named by mail.smtp.password_env "
                + "(PULSE_SMTP_PASSWORD unless set)"))
        }
        if let t = config.mail?.smtp?.tls, !["required", "opportunistic", "none"].contains(t) {
            issues.append(InputIssue(file: file, field: "mail.smtp.tls", "\"\(t)\" is not required, opportunistic or none"))
        }
        if let p = config.prep {
            for (key, value, range) in [("morale_drop_points", p.moraleDropPoints, 1.0...100), ("low_morale", p.lowMorale, 0...100),
                                        ("quota_pace", p.quotaPace, 0...10), ("activity_drop", p.activityDrop, 0.01...0.99),
                                        ("high_activity", p.highActivity, 1...10), ("morale_fall_points", p.moraleFallPoints, 0...100),
                                        ("low_conversion", p.lowConversion, 0.01...1),
                                        ("pipeline_stall", p.pipelineStall, 0.01...0.99)] {
                if let value, !range.contains(value) {
                    issues.append(InputIssue(file: file, field: "prep.\(key)", "\(value) is outside \(range.lowerBound) to \(range.upperBound)"))
                }
            }
            if let n = p.nonResponseRounds, !(1...52).contains(n) {
                issues.append(InputIssue(file: file, field: "prep.non_response_rounds", "\(n) is not 1 to 52"))
            }
            if let n = p.trendWeeks, !(4...52).contains(n) {
                issues.append(InputIssue(file: file, field: "prep.trend_weeks", "\(n) is not 4 to 52"))
            }
        }
        guard issues.isEmpty else { throw .invalidInput(issues) }
        return config
    }

    /// The commented file `pulse init` writes.
    /// What `pulse init` writes: every key, commented out, with the value Pulse uses when
    /// the key is absent (`Default`); a key without a default is shown empty. Uncommenting
    /// a line (and the lines of the sections above it) and changing its value sets it.
    /// Prose comments never start with a lowercase word and a colon, so that the commented
    /// keys are told apart from them.
    public static let template = """
    # Pulse configuration. Every key is commented out and shows the value Pulse uses
    # when the key is absent. To change one, uncomment it (and the section line above
    # it, like "mail:") and edit the value.

    # Shown in mails and on the answer pages.
    # organization: Your team

    # Personal links in mails point here (where reps reach `pulse serve`; behind a TLS
    # proxy, its https address).
    # base_url: http://127.0.0.1:8080

    # Time zone of reps whose roster row has none (an IANA name, like Europe/London).
    # timezone: UTC

    # Anonymity threshold: a group with fewer distinct respondents is hidden in
    # every report and export (3 at the least).
    # min_group_size: 5

    # mail:
    #   # The transport "file" writes each message as an .eml file into outbox_dir
    #   # (nothing is sent); "smtp" sends through the server below.
    #   transport: file
    #   outbox_dir: ./outbox
    #   from: "Pulse <pulse@example.com>"
    #   templates_dir:                  # a folder of your own Mustache templates (none)
    #   smtp:
    #     url: smtp://127.0.0.1:2525    # smtp:// (STARTTLS) or smtps://
    #     tls: required                 # required | opportunistic | none
    #     user:                         # the AUTH user (none: no AUTH)
    #     # The password is read from this environment variable, never from this file.
    #     password_env: PULSE_SMTP_PASSWORD
    #     timeout_seconds: 30
    #     max_connections: 4
    #     rate_per_minute: 0            # 0 = no limit
    #     ca_file:                      # a private server's CA certificate (none: the system's)
    #     max_attempts: 5               # transient failures are retried this often
    #     retry_base_seconds: 2         # then 4, 8, ... with jitter

    # reminders:
    #   max: 2                          # reminders per round at most
    #   min_days_apart: 2

    # When `pulse prep` raises a flag before a one-on-one.
    # prep:
    #   morale_drop_points: 15          # morale_drop: this far under the 4-week baseline
    #   low_morale: 50                  # low_morale: latest morale under this (0-100)
    #   non_response_rounds: 2          # non_response: rounds in a row unanswered
    #   quota_pace: 0.8                 # quota_risk: on pace for less than 80% of quota
    #   activity_drop: 0.3              # activity_drop: a week 30% under their own average
    #   high_activity: 1.2              # "high" activity: 20% over their average or the team's median
    #   morale_fall_points: 5           # burnout_risk: high activity or pace while morale fell this far
    #   low_conversion: 0.75            # coaching_need: high activity, win rate under 75% of the team's median
    #   pipeline_stall: 0.3             # pipeline_stall: more open deals while win rate and velocity run 30% under their average
    #   trend_weeks: 12

    # A PostgreSQL database (--db postgresql://USER@HOST:PORT/NAME): the environment
    # variables that hold its password and the key the links are made with. Neither is
    # ever read from this file or the URL.
    # database:
    #   password_env: PGPASSWORD
    #   token_key_env: PULSE_TOKEN_KEY

    """

    /// The demo's configuration: the template with the demo company's name and zone.
    public static let demoTemplate = template
        .replacingOccurrences(of: "# organization: Your team", with: "organization: Acme Sales")
        .replacingOccurrences(of: "# timezone: UTC", with: "timezone: Europe/London")

    /// The values Pulse uses for keys `pulse.yaml` leaves out (and that `template` shows).
    public enum Default {
        public static let organization = "Your team"
        public static let baseURL = "http://127.0.0.1:8080"
        public static let timezone = "UTC"
        public static let minGroupSize = 5
        public static let transport = "file"
        public static let outboxDir = "./outbox"
        public static let from = "Pulse <pulse@example.com>"
        public static let smtpURL = "smtp://127.0.0.1:2525"
        public static let tls = "required"
        public static let passwordEnv = "PULSE_SMTP_PASSWORD"
        public static let timeoutSeconds = 30
        public static let maxConnections = 4
        public static let ratePerMinute = 0
        public static let maxAttempts = 5
        public static let retryBaseSeconds = 2.0
        public static let databasePasswordEnv = "PGPASSWORD"
        public static let tokenKeyEnv = "PULSE_TOKEN_KEY"
        public static let reminderMax = 2
        public static let reminderMinDaysApart = 2
    }
}

extension PulseConfig {
    /// The configuration with its relative paths (`mail.outbox_dir`, `mail.templates_dir`,
    /// `mail.smtp.ca_file`, and the default outbox) read from the folder the file is in, not the current one:
    /// `PULSE_CONFIG=/srv/pulse/pulse.yaml` finds `./outbox` in /srv/pulse.
    public func resolvingPaths(relativeTo folder: String) -> PulseConfig {
        guard !folder.isEmpty, folder != "." else { return self }
        func resolve(_ p: String?) -> String? {
            guard let p, !p.isEmpty, !p.hasPrefix("/"), !p.hasPrefix("~") else { return p }
            let rest = p.hasPrefix("./") ? String(p.dropFirst(2)) : p
            return (folder as NSString).appendingPathComponent(rest)
        }
        var c = self
        // The default outbox too is beside the file.
        if c.mail == nil { c.mail = Mail() }
        c.mail?.outboxDir = resolve(mail?.outboxDir ?? Default.outboxDir)
        c.mail?.templatesDir = resolve(mail?.templatesDir)
        c.mail?.smtp?.caFile = resolve(mail?.smtp?.caFile)
        return c
    }
}
