/// The pages of `pulse help TOPIC`: what a person needs beside the commands' own help.
public enum HelpTopic: String, CaseIterable, Sendable {
    case surveys, figures, config, privacy

    public var summary: String {
        switch self {
        case .surveys: "the survey file format (Surveys/*.yaml)"
        case .figures: "how every figure is defined: eNPS, morale, KPIs, correlations, prep flags"
        case .config: "every key of pulse.yaml"
        case .privacy: "what stays anonymous, and how"
        }
    }

    public var text: String {
        switch self {
        case .surveys: """
            SURVEY FILES (Surveys/*.yaml, one survey per file; pulse survey validate checks them)

              id: weekly-pulse              letters, digits and - ; the file's name need not match
              title: Weekly pulse           a string, or a map from locale to string:
                                              title: {en: Weekly pulse, th: แบบสำรวจประจำสัปดาห์}
              anonymity: identified         identified: answers are kept with the rep (their manager
                                              sees them, the prep note uses them)
                                            anonymous: answers are stored with no rep and no time, and
                                              shown only for groups at or above min_group_size
              intro: ...                    optional, shown on the page and in the mail
              schedule:                     optional; pulse tick sends rounds on it
                every: week                 week | 2weeks | month | quarter
                on: monday                  a weekday (for month and quarter, the first such weekday)
                at: "09:00"                 in each rep's own time zone
                close_after_days: 5
              questions:                    1 to 10 of them
                - id: energy                unique in the survey; the CSV column of responses import
                  type: scale               scale | enps | text | choice
                  text: How energised ...   a string or a map from locale to string
                  min: 1                    scale: whole numbers, at most 11 points
                  max: 5
                  labels: {1: Drained, 5: Energised}   scale and enps: texts for some points
                - id: enps
                  type: enps                always 0 to 10
                - id: reason
                  type: choice
                  options: [Pay, Team, Growth]          or {id, text} maps for translated options
                  optional: true            an answer is required unless optional is true

            A rep sees the texts of their roster locale (en, th, ms, ru, ... ; English when
            missing). Unknown keys are refused, so a typo is caught. Editing a file makes a
            new version for new rounds; a round keeps the version it was sent with.
            """
        case .figures: """
            FIGURES (the definitions Pulse computes by)

            eNPS answer       0 to 10: promoter 9-10, passive 7-8, detractor 0-6.
            eNPS              100 × (promoters − detractors) / responses, rounded half away from zero
                              to one decimal. Over a range of periods each response counts once.
            eNPS interval     95%: 100 × [(p − q) ± 1.96 √((p + q − (p − q)²) / n)], p and q the
                              promoter and detractor shares, clipped to ±100; none under 2 answers.
            morale            of one response: the mean over its scale answers of
                              100 × (answer − min) / (max − min); enps, text and choice are not in it.
                              A rep's for a week: the mean of their responses that week. A group's:
                              the mean of its reps'.
            suppression       a group of fewer than min_group_size distinct respondents is hidden;
                              when exactly one group is hidden, the next smallest is hidden with it.
            weekly KPIs       activity rows summed per rep and ISO week; a rep-week counts only with
                              an activity row. activity = calls + emails + meetings;
                              win_rate = deals_won / (deals_won + deals_lost);
                              avg_deal_size = revenue_won / deals_won;
                              quota_attainment = revenue_won ÷ the quota falling on the week's seven
                              days (a quota spread evenly over its period's days).
                              A ratio with a zero denominator is missing, not zero.
            pipeline KPIs     over the trailing quarter (the 13 ISO weeks ending with week w):
                              opportunities_open = created by w's Sunday, not closed by then;
                              sales_cycle_days = mean (closed − created) of the quarter's wins;
                              win_rate_13w = won / (won + lost) closed in the quarter;
                              avg_deal_size_13w = mean amount of those won;
                              pipeline_velocity = open × win_rate_13w × avg_deal_size_13w ÷
                              sales_cycle_days (money per day); lead_conversion = of the quarter's
                              new leads, the share converted by Sunday. Missing inputs (or a cycle
                              of 0 days) leave a value missing. A team's: the mean of its reps',
                              opportunities_open summed.
            correlate         pairs a rep's morale in week t with their KPI in week t + lag.
                              Pearson r with p (Student's t, n − 2 df) and a Fisher-z 95% interval;
                              Spearman ρ (ties ranked by their average); within-rep r (repeated
                              measures: each rep centred on their own means, df = N − reps − 1).
                              At least 10 pairs, and 3 reps for within-rep. Association, not cause.
            drivers           each scale question's Pearson r with the eNPS answer, strongest first.
            prep: latest      the rep's morale in the latest week with an answer on or before --as-of.
            prep: baseline    the mean of their weekly morale over the four weeks before that week
                              (weeks without an answer skipped; none from fewer than two).
            prep: KPIs        last week (the full week before the as-of day's) against the rep's own
                              average of the weeks before it and the team's median that week.
            prep: pace        quota attainment so far ÷ the share of the quota period gone (1.0 is
                              on track).
            prep: pipeline    the pipeline KPIs of last week against the rep's own average of the
                              weeks before it and the team's median that week, as for activity.
            prep: flags       morale_drop, low_morale, non_response, detractor, quota_risk,
                              activity_drop, burnout_risk, coaching_need, pipeline_stall: see pulse
                              help config.
            """
        case .config: """
            CONFIGURATION (pulse.yaml; every key optional; pulse init writes a commented copy)

            organization: Acme Sales               in mails and on the answer pages
            base_url: http://127.0.0.1:8080        where the personal links in mails point
            timezone: Europe/London                for reps whose roster row has none
            min_group_size: 5                      the anonymity threshold (3 at least)
            mail:
              transport: file                      file (writes .eml files) | smtp
              outbox_dir: ./outbox
              from: "Pulse <pulse@example.com>"
              templates_dir: ./templates           your own Mustache templates
              smtp:
                url: smtp://127.0.0.1:2525         smtp:// (STARTTLS) or smtps://
                tls: required                      required | opportunistic | none
                user: pulse
                password_env: PULSE_SMTP_PASSWORD  the password is read from this variable, never
                                                   from the file (pulse doctor warns if one is there)
                ca_file: ./mail-ca.pem             trust a private server's certificate
                timeout_seconds: 30
                max_connections: 4
                rate_per_minute: 0                 0 = no limit
                max_attempts: 5                    transient failures are retried this often
                retry_base_seconds: 2              then 4, 8, ... with jitter
            reminders:
              max: 2
              min_days_apart: 2
            prep:                                  when pulse prep raises a flag
              morale_drop_points: 15               morale_drop: this far under the baseline
              low_morale: 50                       low_morale: latest morale under this
              non_response_rounds: 2               non_response: identified rounds in a row unanswered
              quota_pace: 0.8                      quota_risk: on pace for less (from day 7)
              activity_drop: 0.3                   activity_drop: last week this share under their average
              high_activity: 1.2                   "high activity": this many times their average or
                                                   the team's median
              morale_fall_points: 5                burnout_risk: high activity or pace >= 1 while
                                                   morale fell this far
              low_conversion: 0.75                 coaching_need: high activity, win rate under this
                                                   share of the team's median
              pipeline_stall: 0.3                  pipeline_stall: more open opportunities than their
                                                   average while the 13-week win rate and pipeline
                                                   velocity are this share or more under theirs
              trend_weeks: 12
            database:                              only for --db postgresql://USER@HOST:PORT/NAME
              password_env: PGPASSWORD             the variable holding the password (never the URL)
              token_key_env: PULSE_TOKEN_KEY       the variable holding the links' key (base64 of
                                                   32 random bytes, the same on every sender)

            Files: --db / PULSE_DB (./pulse.sqlite, or a postgresql:// URL), --config /
            PULSE_CONFIG (./pulse.yaml), --surveys / PULSE_SURVEYS (./Surveys). NO_COLOR or a
            pipe turns colour off.
            """
        case .privacy: """
            PRIVACY

            For an anonymous survey, whoever runs Pulse (with the database and its WAL copied at
            any moment, the backups, the key file, every mail and link, every output of every
            command, and who answered when) cannot narrow an answer down to fewer than
            min_group_size (5 by default, never under 3) of the round's respondents. Not covered:
            changing Pulse's code, reading the memory of a running pulse serve, answering through
            other reps' links, and import files, which name each rep beside their answer (delete
            them once imported). A round keeps the largest min_group_size its mail or pages
            promised: lowering it in pulse.yaml later changes nothing for that round.

            - Figures: each round's anonymous answers count under their rep's team, manager and
              region only where min_group_size answers of the round share them (else manager and
              region, then region, then none, shown as "(none)"). A round with fewer anonymous
              answers than the threshold is left out of every figure, and the report says so.
              Every breakdown, period and range is a union of such groups.
            - Storage: no rep, no time, a random id. responses import writes a round's new
              anonymous answers as one shuffled batch after every invitation, and refuses fewer
              than min_group_size. pulse serve holds web answers and writes them in shuffled
              batches of at least min_group_size, with exactly those reps' answered flags: a
              batch at twice the threshold, the rest at the round's close or a stop.
            - Nothing stored with an anonymous answer is computable from its link or the key
              file, and the link never shows it: an anonymous answer cannot be changed.
            - Costs: a round ending with fewer answers than the threshold keeps none; answers
              serve holds are lost in a crash (those reps count as not answered again, and get
              reminders), as are a stop's under the threshold in their round.
            - The operator still sees who answered, when each batch was written, how many
              answered per group, and group figures of at least min_group_size answers.
            - Identified surveys' groups under the threshold are hidden (with the next smallest
              when only one would be). Anonymous answers are never shown per rep: not in prep
              notes, not in correlate, not in non_response.
            - Personal links are 256-bit random tokens; only their SHA-256 is stored, and
              they are compared in constant time. The answer pages log no tokens and no
              answers, set no cookies, and send no-referrer and no-store.
            - pulse backup copies the key file beside the database at mode 0600: keep both,
              and keep them as private as the database.
            """
        }
    }
}
