import PulseCore
import Testing
@testable import PulseWeb

/// `roster import` warns of locales outside `pageLanguages`: the pages' table must be that list.
@Test func answerPagesAreWrittenInThePageLanguages() {
    #expect(Set(PageStrings.all.keys) == pageLanguages)
}
