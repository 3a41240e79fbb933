/// The languages Pulse writes its mail and answer pages in. PulseMail's and PulseWeb's
/// string tables hold exactly these (their tests check), and `roster import` warns of a
/// rep whose locale is in none of them.
public let pageLanguages: Set<String> = ["en", "ms", "ru", "th"]
