/// Counts with their noun in the right number: "1 invitation", "3 invitations".
public enum Plural {
    public static func count(_ n: Int, _ noun: String, plural: String? = nil) -> String {
        "\(n) \(n == 1 ? noun : plural ?? Self.plural(noun))"
    }

    /// "opportunity" → "opportunities", "day" → "days", "invitation" → "invitations".
    static func plural(_ noun: String) -> String {
        guard noun.hasSuffix("y"), let before = noun.dropLast().last, !"aeiou".contains(before) else { return noun + "s" }
        return noun.dropLast() + "ies"
    }
}
