// The survey definitions shipped in `Surveys/`, embedded so that `pulse init` and
// `pulse demo` work with nothing beside the binary. A test checks that these strings
// are byte for byte the files in `Surveys/`: edit the files, then run
// `scripts/embed-surveys` to refresh this one.
public enum DefaultSurveys {
    /// What `pulse init` writes.
    public static let files: [(name: String, yaml: String)] = [
        ("weekly-pulse.yaml", weeklyPulse),
        ("enps.yaml", enps),
    ]

    /// Shipped, and written by `pulse init --with NAME` and by the demo. The engagement
    /// survey asks the eNPS question too: run it instead of enps.yaml, not beside it.
    public static let optional: [(name: String, yaml: String)] = [
        ("engagement.yaml", engagement),
    ]

    public static var all: [(name: String, yaml: String)] { files + optional }

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
      th: ห้าคำถาม ใช้เวลาไม่ถึงหนึ่งนาที ผู้จัดการของคุณจะเห็นคำตอบและใช้เตรียมการพูดคุยแบบตัวต่อตัว
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
          ru: Сколько сил у вас было на работе на этой неделе?
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
            ru: Сил много
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
            ms: Sangat mudah diurus
            ru: Вполне посильная
      - id: support
        type: scale
        min: 1
        max: 5
        text:
          en: How well did your manager support you this week?
          th: สัปดาห์นี้ผู้จัดการสนับสนุนคุณได้ดีแค่ไหน
          ms: Sejauh manakah pengurus anda menyokong anda minggu ini?
          ru: Насколько вам хватало поддержки руководителя на этой неделе?
        labels:
          "1":
            en: Not at all
            th: ไม่เลย
            ms: Langsung tidak
            ru: Совсем не хватало
          "5":
            en: Very well
            th: ดีมาก
            ms: Sangat baik
            ru: Вполне хватало
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
            ru: Совсем не уверены
          "5":
            en: Very confident
            th: มั่นใจมาก
            ms: Sangat yakin
            ru: Полностью уверены
      - id: comment
        type: text
        optional: true
        text:
          en: Anything you would like to raise in your next one-on-one?
          th: มีเรื่องใดที่อยากยกขึ้นมาในการพูดคุยแบบตัวต่อตัวครั้งถัดไปไหม
          ms: Ada apa-apa yang anda ingin bangkitkan dalam sesi empat mata yang akan datang?
          ru: Что бы вы хотели обсудить на следующей встрече один на один?

    """#

    public static let enps = #"""
    # The quarterly eNPS survey. Anonymous: answers are stored with no link to the rep
    # and reported only for groups at or above the anonymity threshold. The intro makes
    # no promise of its own: the page and the mail say who sees the answers, in the same
    # words in every language (docs/glossary.yaml), and no more than Pulse keeps today.
    # Texts are given per locale (en, th, ms, ru); a rep whose locale is not listed
    # gets English. Edit freely: each round keeps the version it was sent with.
    id: enps
    title:
      en: Employee Net Promoter Score
      th: คะแนนการแนะนำสุทธิของพนักงาน (eNPS)
      ms: Skor Promoter Bersih Pekerja (eNPS)
      ru: Индекс лояльности сотрудников (eNPS)
    anonymity: anonymous
    schedule:
      every: quarter
      on: monday
      at: "09:00"
      close_after_days: 14
    intro:
      en: Two questions, about a minute.
      th: สองคำถาม ใช้เวลาประมาณหนึ่งนาที
      ms: Dua soalan, kira-kira seminit.
      ru: Два вопроса, около минуты.
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

    public static let engagement = #"""
    # The quarterly engagement survey: the eNPS question, seven driver statements on a
    # 1-5 scale and an optional comment. Anonymous, like the eNPS survey: answers are
    # stored with no link to the rep and reported only for groups at or above the
    # anonymity threshold; the page and the mail say so (docs/glossary.yaml), the intro
    # does not. `pulse drivers --survey engagement` ranks the statements by how their
    # answers go with the eNPS answer: what to work on first.
    # Texts are given per locale (en, th, ms, ru); a rep whose locale is not listed
    # gets English. Edit freely: each round keeps the version it was sent with.
    id: engagement
    title:
      en: Quarterly engagement survey
      th: แบบสำรวจความผูกพันรายไตรมาส
      ms: Tinjauan penglibatan suku tahunan
      ru: Ежеквартальный опрос вовлечённости
    anonymity: anonymous
    schedule:
      every: quarter
      on: wednesday
      at: "10:00"
      close_after_days: 14
    intro:
      en: Nine questions, about three minutes.
      th: เก้าคำถาม ใช้เวลาประมาณสามนาที
      ms: Sembilan soalan, kira-kira tiga minit.
      ru: Девять вопросов, около трёх минут.
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
      - id: growth
        type: scale
        min: 1
        max: 5
        labels: &agree
          "1":
            en: Strongly disagree
            th: ไม่เห็นด้วยอย่างยิ่ง
            ms: Sangat tidak setuju
            ru: Нет, совсем нет
          "5":
            en: Strongly agree
            th: เห็นด้วยอย่างยิ่ง
            ms: Sangat setuju
            ru: Да, полностью
        text:
          en: I can see a way to grow in my career here.
          th: ฉันมองเห็นโอกาสเติบโตในสายอาชีพที่นี่
          ms: Saya nampak peluang untuk berkembang dalam kerjaya saya di sini.
          ru: Я вижу здесь возможности для профессионального роста.
      - id: recognition
        type: scale
        min: 1
        max: 5
        labels: *agree
        text:
          en: Good work is recognised here.
          th: ผลงานที่ดีได้รับการยอมรับที่นี่
          ms: Kerja yang baik dihargai di sini.
          ru: Хорошую работу здесь замечают и ценят.
      - id: manager_support
        type: scale
        min: 1
        max: 5
        labels: *agree
        text:
          en: My manager supports me when I need it.
          th: ผู้จัดการของฉันให้การสนับสนุนเมื่อฉันต้องการ
          ms: Pengurus saya menyokong saya apabila saya memerlukannya.
          ru: Руководитель поддерживает меня, когда это нужно.
      - id: manageable_workload
        type: scale
        min: 1
        max: 5
        labels: *agree
        text:
          en: My workload is manageable.
          th: ภาระงานของฉันอยู่ในระดับที่จัดการได้
          ms: Beban kerja saya boleh diurus.
          ru: Моя нагрузка посильна.
      - id: tools
        type: scale
        min: 1
        max: 5
        labels: *agree
        text:
          en: I have the tools and information I need to sell well.
          th: ฉันมีเครื่องมือและข้อมูลที่จำเป็นต่อการขายให้ได้ดี
          ms: Saya mempunyai alat dan maklumat yang diperlukan untuk menjual dengan baik.
          ru: У меня есть инструменты и информация, чтобы хорошо продавать.
      - id: belonging
        type: scale
        min: 1
        max: 5
        labels: *agree
        text:
          en: I feel I belong on this team.
          th: ฉันรู้สึกเป็นส่วนหนึ่งของทีมนี้
          ms: Saya rasa diterima sebagai sebahagian daripada pasukan ini.
          ru: Я чувствую себя частью этой команды.
      - id: targets
        type: scale
        min: 1
        max: 5
        labels: *agree
        text:
          en: My targets are fair and achievable.
          th: เป้าหมายของฉันยุติธรรมและทำได้จริง
          ms: Sasaran saya adil dan boleh dicapai.
          ru: Мои планы продаж справедливы и достижимы.
      - id: comment
        type: text
        optional: true
        text:
          en: What one change would make working here better for you?
          th: การเปลี่ยนแปลงอะไรหนึ่งอย่างที่จะทำให้การทำงานที่นี่ดีขึ้นสำหรับคุณ
          ms: Apakah satu perubahan yang akan menjadikan kerja di sini lebih baik untuk anda?
          ru: Какое одно изменение сделало бы работу здесь лучше для вас?

    """#
}
