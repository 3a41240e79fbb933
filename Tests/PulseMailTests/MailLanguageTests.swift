import PulseCore
import Testing
@testable import PulseMail

/// `roster import` warns of locales outside `pageLanguages`: the mail's table must be that list.
@Test func mailIsWrittenInThePageLanguages() {
    #expect(Set(MailStrings.all.keys) == pageLanguages)
}
