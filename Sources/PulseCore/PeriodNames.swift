import Foundation

/// The locale a rep's dates are written in: their language, and for English the
/// country's habits (7 December 2026 at 16:00 in Britain, December 7, 2026 at 4:00 PM
/// in the United States, 7 December 2026 at 4:00 PM in Malaysia).
public enum DateLocale {
    /// Countries whose English dates Pulse writes their own way when a rep's time zone
    /// is there; any other English reader gets international English (`en-001`).
    static let englishZones: [String: [String]] = [
        "AU": ["Antarctica/Macquarie", "Australia/Adelaide", "Australia/Brisbane", "Australia/Broken_Hill", "Australia/Darwin",
               "Australia/Eucla", "Australia/Hobart", "Australia/Lindeman", "Australia/Lord_Howe", "Australia/Melbourne",
               "Australia/Perth", "Australia/Sydney"],
        "CA": ["America/Atikokan", "America/Blanc-Sablon", "America/Cambridge_Bay", "America/Creston", "America/Dawson",
               "America/Dawson_Creek", "America/Edmonton", "America/Fort_Nelson", "America/Glace_Bay", "America/Goose_Bay",
               "America/Halifax", "America/Inuvik", "America/Iqaluit", "America/Moncton", "America/Rankin_Inlet", "America/Regina",
               "America/Resolute", "America/St_Johns", "America/Swift_Current", "America/Toronto", "America/Vancouver",
               "America/Whitehorse", "America/Winnipeg"],
        "GB": ["Europe/London", "Europe/Belfast", "GB"],
        "HK": ["Asia/Hong_Kong", "Hongkong"],
        "IE": ["Europe/Dublin", "Eire"],
        "IN": ["Asia/Kolkata", "Asia/Calcutta"],
        "MY": ["Asia/Kuala_Lumpur", "Asia/Kuching"],
        "NZ": ["Pacific/Auckland", "Pacific/Chatham", "NZ"],
        "PH": ["Asia/Manila"],
        "SG": ["Asia/Singapore", "Singapore"],
        "US": ["America/Adak", "America/Anchorage", "America/Boise", "America/Chicago", "America/Denver", "America/Detroit",
               "America/Indiana/Indianapolis", "America/Indiana/Knox", "America/Indiana/Marengo", "America/Indiana/Petersburg",
               "America/Indiana/Tell_City", "America/Indiana/Vevay", "America/Indiana/Vincennes", "America/Indiana/Winamac",
               "America/Juneau", "America/Kentucky/Louisville", "America/Kentucky/Monticello", "America/Los_Angeles",
               "America/Menominee", "America/Metlakatla", "America/New_York", "America/Nome", "America/North_Dakota/Beulah",
               "America/North_Dakota/Center", "America/North_Dakota/New_Salem", "America/Phoenix", "America/Sitka",
               "America/Yakutat", "Pacific/Honolulu", "US/Eastern", "US/Central", "US/Mountain", "US/Pacific", "US/Alaska",
               "US/Hawaii", "US/Arizona"],
        "ZA": ["Africa/Johannesburg"],
    ]

    static let countryOfZone: [String: String] = {
        var out: [String: String] = [:]
        for (country, zones) in englishZones { for z in zones { out[z] = country } }
        return out
    }()

    /// The locale identifier for a rep's dates.
    ///
    /// A roster `locale` with a country (`en-GB`, `en-MY`, `ms-SG`) is used as written.
    /// Otherwise Thai, Malay and Russian are written the way of their language (Thai with
    /// Buddhist-era years), and English by the country of the roster's `region` when it
    /// is a two-letter country code (`GB`, `MY`, `US`), else of the rep's time zone when
    /// it is in `englishZones`, else as international English (`en-001`: 7 December 2026
    /// at 4:00 PM), never as American English by default.
    public static func identifier(locale: String?, region: String?, timezone: String?) -> String {
        let parts = (locale ?? "en").replacingOccurrences(of: "_", with: "-").split(separator: "-").map(String.init)
        let language = parts.first?.lowercased() ?? "en"
        if parts.count > 1, let country = parts.last, country.count == 2 || country.count == 3 {
            return "\(language)-\(country.uppercased())"
        }
        guard language == "en" else { return language }
        if let r = region?.trimmingCharacters(in: .whitespaces), r.count == 2, r.allSatisfy({ $0.isASCII && $0.isLetter }),
           Locale.Region.isoRegions.contains(where: { $0.identifier == r.uppercased() }) {
            return "en-\(r.uppercased())"
        }
        if let z = timezone, let country = countryOfZone[z] { return "en-\(country)" }
        return "en-001"
    }
}

/// How a period is named to a reader, in their language: "week of 23 November 2026",
/// "Q1 2027", "November 2026"; Thai with Buddhist-era years. `%@` is the period's
/// first day (week), or the quarter and the year.
public struct PeriodNames: Sendable {
    public var week: String     // the Monday, written as a date
    public var quarter: String  // the quarter's name, the year
    /// The four quarters' names, as `quarter` takes them.
    public var quarters: [String]

    public static let all: [String: PeriodNames] = [
        "en": PeriodNames(week: "week of %@", quarter: "%@ %@", quarters: ["Q1", "Q2", "Q3", "Q4"]),
        "th": PeriodNames(week: "สัปดาห์ที่เริ่มวันที่ %@", quarter: "ไตรมาสที่ %@ ปี %@", quarters: ["1", "2", "3", "4"]),
        "ms": PeriodNames(week: "minggu bermula %@", quarter: "suku tahun %@ %@", quarters: ["pertama", "kedua", "ketiga", "keempat"]),
        "ru": PeriodNames(week: "неделя с %@", quarter: "%@ квартал %@ г.", quarters: ["I", "II", "III", "IV"]),
    ]

    private static let cache = BoundedCache<String, String>(limit: 512)
    private static let lock = NSLock()

    /// The name of `period` for a reader of `lang` whose dates are written in `dateLocale`
    /// (see `DateLocale`). Languages Pulse has no words for get English.
    public static func name(_ period: Period, lang: String, dateLocale: String) -> String {
        let key = "\(period)|\(lang)|\(dateLocale)"
        if let cached = cache[key] { return cached }
        let words = all[lang] ?? all["en"]!
        let language = all[lang] == nil ? "en" : lang
        let locale = all[lang] == nil ? "en-001" : dateLocale
        let name: String
        switch period {
        case .week:
            name = fillIn(words.week, [format(period.start, template: "dMMMMy", locale: locale)])
        case let .quarter(year, quarter):
            // Thai years are Buddhist-era years, as Thai dates are: 2026 is 2569.
            let y = language == "th" ? year + 543 : year
            name = fillIn(words.quarter, [words.quarters[quarter - 1], String(y)])
        case .month:
            name = format(period.start, template: "LLLLy", locale: locale)
        }
        cache[key] = name
        return name
    }

    static func fillIn(_ pattern: String, _ values: [String]) -> String {
        var out = pattern
        for v in values {
            guard let r = out.range(of: "%@") else { break }
            out.replaceSubrange(r, with: v)
        }
        return out
    }

    /// DateFormatter is costly to make and not safe to share: made here under a lock,
    /// only on a cache miss.
    static func format(_ day: Day, template: String, locale: String) -> String {
        lock.withLock {
            let f = DateFormatter()
            f.locale = Locale(identifier: locale)
            f.timeZone = TimeZone(identifier: "UTC")
            f.setLocalizedDateFormatFromTemplate(template)
            return f.string(from: Date(timeIntervalSince1970: TimeInterval(day.ordinal) * 86_400))
        }
    }
}
