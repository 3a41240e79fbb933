// The survey definitions shipped in `Surveys/`, embedded so that `pulse init` and
// `pulse demo` work with nothing beside the binary. A test checks that these strings
// are byte for byte the files in `Surveys/`: edit the files, then run
// `scripts/embed-surveys` to refresh this one.
public enum DefaultSurveys {
    public static let files: [(name: String, yaml: String)] = [
        ("weekly-pulse.yaml", weeklyPulse),
        ("enps.yaml", enps),
    ]

    public static let weeklyPulse = #"""
    # The weekly pulse: four quick scale questions and an optional comment.
    # Identified: the answers are kept with the rep and feed their one-on-one note.
    # Texts are given per locale (en, th, ms, ru); a rep whose locale is not listed
    # gets English. Edit freely: each round keeps the version it was sent with.
    id: weekly-pulse
    title:
      en: Weekly pulse
      th: แบบสำรวจประจำสัปดาห์
      ms: Tinjauan mingguan
      ru: Еженедельный опрос
    anonymity: identified
    schedule:
      every: week
      on: monday
      at: "09:00"
      close_after_days: 5
    intro:
      en: Five questions, under a minute. Your manager sees your answers and uses them to prepare your one-on-one.
      th: ห้าคำถาม ใช้เวลาไม่ถึงหนึ่งนาที ผู้จัดการของคุณจะเห็นคำตอบและใช้เตรียมการคุยแบบตัวต่อตัว
      ms: Lima soalan, kurang daripada seminit. Pengurus anda melihat jawapan anda dan menggunakannya untuk menyediakan sesi empat mata.
      ru: Пять вопросов, меньше минуты. Ваш руководитель видит ваши ответы и готовится по ним к встрече один на один.
    questions:
      - id: energy
        type: scale
        min: 1
        max: 5
        text:
          en: How energised did you feel at work this week?
          th: สัปดาห์นี้คุณรู้สึกมีพลังในการทำงานมากแค่ไหน
          ms: Sejauh manakah anda rasa bertenaga di tempat kerja minggu ini?
          ru: Насколько энергичным вы чувствовали себя на работе на этой неделе?
        labels:
          "1":
            en: Drained
            th: หมดแรง
            ms: Keletihan
            ru: Без сил
          "5":
            en: Full of energy
            th: เต็มไปด้วยพลัง
            ms: Penuh tenaga
            ru: Полон сил
      - id: workload
        type: scale
        min: 1
        max: 5
        text:
          en: How manageable was your workload this week?
          th: สัปดาห์นี้ภาระงานของคุณจัดการได้ดีแค่ไหน
          ms: Sejauh manakah beban kerja anda dapat diurus minggu ini?
          ru: Насколько посильной была ваша нагрузка на этой неделе?
        labels:
          "1":
            en: Overwhelming
            th: หนักเกินไป
            ms: Terlalu berat
            ru: Непосильная
          "5":
            en: Very manageable
            th: จัดการได้สบาย
            ms: Sangat terurus
            ru: Вполне посильная
      - id: support
        type: scale
        min: 1
        max: 5
        text:
          en: How well did your manager support you this week?
          th: สัปดาห์นี้ผู้จัดการสนับสนุนคุณได้ดีแค่ไหน
          ms: Sejauh manakah pengurus anda menyokong anda minggu ini?
          ru: Насколько хорошо руководитель поддерживал вас на этой неделе?
        labels:
          "1":
            en: Not at all
            th: ไม่เลย
            ms: Langsung tidak
            ru: Совсем нет
          "5":
            en: Very well
            th: ดีมาก
            ms: Sangat baik
            ru: Очень хорошо
      - id: quota_confidence
        type: scale
        min: 1
        max: 5
        text:
          en: How confident are you of hitting your quota this period?
          th: คุณมั่นใจแค่ไหนว่าจะทำยอดได้ตามเป้าในรอบนี้
          ms: Sejauh manakah anda yakin dapat mencapai kuota anda bagi tempoh ini?
          ru: Насколько вы уверены, что выполните план в этом периоде?
        labels:
          "1":
            en: Not confident
            th: ไม่มั่นใจ
            ms: Tidak yakin
            ru: Не уверен
          "5":
            en: Very confident
            th: มั่นใจมาก
            ms: Sangat yakin
            ru: Полностью уверен
      - id: comment
        type: text
        optional: true
        text:
          en: Anything you would like to raise in your next one-on-one?
          th: มีเรื่องใดที่อยากคุยในการพบกันแบบตัวต่อตัวครั้งถัดไปไหม
          ms: Ada apa-apa yang anda ingin bangkitkan dalam sesi empat mata yang akan datang?
          ru: Что бы вы хотели обсудить на следующей встрече один на один?

    """#

    public static let enps = #"""
    # The quarterly eNPS survey. Anonymous: answers are stored with no link to the rep
    # and shown only for groups at or above the anonymity threshold.
    # Texts are given per locale (en, th, ms, ru); a rep whose locale is not listed
    # gets English. Edit freely: each round keeps the version it was sent with.
    id: enps
    title:
      en: Employee Net Promoter Score
      th: ดัชนีความผูกพันของพนักงาน (eNPS)
      ms: Skor Promoter Bersih Pekerja (eNPS)
      ru: Индекс лояльности сотрудников (eNPS)
    anonymity: anonymous
    schedule:
      every: quarter
      on: monday
      at: "09:00"
      close_after_days: 14
    intro:
      en: Two questions. Your answers are anonymous; results are shown only for groups large enough that no one can be singled out.
      th: สองคำถาม คำตอบของคุณไม่ระบุตัวตน ผลลัพธ์จะแสดงเฉพาะกลุ่มที่ใหญ่พอจนไม่สามารถระบุตัวบุคคลได้
      ms: Dua soalan. Jawapan anda tanpa nama; keputusan hanya ditunjukkan bagi kumpulan yang cukup besar supaya tiada sesiapa dapat dikenal pasti.
      ru: Два вопроса. Ответы анонимны; результаты показываются только по группам, достаточно большим, чтобы никого нельзя было выделить.
    questions:
      - id: enps
        type: enps
        text:
          en: How likely are you to recommend this company as a place to work?
          th: คุณมีแนวโน้มจะแนะนำบริษัทนี้ให้เป็นที่ทำงานแก่ผู้อื่นมากแค่ไหน
          ms: Sejauh manakah kemungkinan anda mengesyorkan syarikat ini sebagai tempat bekerja?
          ru: Насколько вероятно, что вы порекомендуете эту компанию как место работы?
        labels:
          "0":
            en: Not at all likely
            th: ไม่แนะนำเลย
            ms: Langsung tidak mungkin
            ru: Совсем маловероятно
          "10":
            en: Extremely likely
            th: แนะนำอย่างยิ่ง
            ms: Sangat mungkin
            ru: Очень вероятно
      - id: reason
        type: text
        optional: true
        text:
          en: What is the main reason for your score?
          th: เหตุผลหลักของคะแนนที่คุณให้คืออะไร
          ms: Apakah sebab utama skor anda?
          ru: Какова главная причина вашей оценки?

    """#
}
