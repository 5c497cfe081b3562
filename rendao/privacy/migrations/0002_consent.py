"""Consent records and data-subject requests (issue #3), with version 1 of every
consent text in both languages and the new `privacy.manage` permission for the
built-in branch administrator role.

The texts follow PIPL Art 14, 17, 23, 29 and 31: each says what is processed,
why, who receives it, how long it is kept, and how to withdraw — and that
withdrawing does not undo processing already done. A published text is never
edited afterwards (consents point at it); new wording is a new version.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.utils import timezone

import rendao.privacy.fields

PERM = "privacy.manage"

WITHDRAW_ZH = (
    "您可以随时撤回本同意：登录后进入“我的 › 个人信息与授权”，点击“撤回同意”即可，"
    "撤回与同意一样简便。撤回不影响撤回前基于您的同意已进行的处理活动的效力；"
    "撤回后我们将停止相应处理，但法律、行政法规要求保存的记录除外。"
    "如有疑问或投诉，可通过本会公布的联系电话与我们联系。"
)
WITHDRAW_EN = (
    "You can withdraw this consent at any time: sign in, open “My › Personal data and "
    "consents” and press “Withdraw consent” — withdrawing is as easy as consenting. "
    "Withdrawal does not affect processing already carried out on the basis of your "
    "consent before you withdrew it; after it we stop this processing, except for "
    "records that laws or administrative regulations require us to keep. For questions "
    "or complaints, contact us at the telephone number the society publishes."
)

# (purpose, zh-hans title, zh-hans body, en title, en body)
TEXTS = [
    (
        "volunteer_registration",
        "志愿者实名注册个人信息处理告知及同意",
        "为办理红十字志愿者实名注册（《志愿服务条例》第七条），本会（红十字会）需要处理您的以下个人信息："
        "姓名、居民身份证号码、手机号码、所属服务队伍以及您的服务时长、培训、表彰和评价记录。"
        "其中身份证号码属于敏感个人信息，我们加密存储，页面上仅显示部分号码。\n\n"
        "处理目的：核实身份、组织志愿服务、记录服务时长并按您的申请出具服务记录证明。"
        "如您未满十四周岁，须由您的父母或其他监护人同意。\n\n"
        "这些信息仅由本会及您所在的分会使用，不会公开；除非您另行单独同意，我们不会将其提供给"
        "全国志愿服务信息系统或其他任何第三方。保存期限为您注册志愿者期间，注销后按规定删除或匿名化。"
        "不同意本项时，您仍可浏览和使用其他服务，但无法注册为志愿者。\n\n" + "{withdraw}",
        "Consent to the processing of personal information for volunteer registration",
        "To register you as a Red Cross volunteer under your real name (Volunteer Service "
        "Regulations, Art 7), the society (the Red Cross, “we”) needs to process: your name, "
        "resident ID card number, mobile number, the team you serve in, and your service hours, "
        "training, awards and evaluations. Your ID card number is sensitive personal information: "
        "we store it encrypted and pages show only part of it.\n\n"
        "Why: to verify who you are, organise volunteer service, record your hours and, when you "
        "ask, issue a certificate of your service record. If you are under 14, your parent or "
        "other guardian must give this consent.\n\n"
        "Only the society and the branch you serve with use this information; it is never "
        "published, and we do not pass it to the national volunteer service system or anyone "
        "else unless you give that separate consent. We keep it while you are registered and "
        "delete or anonymise it when you leave. If you do not consent you can still use our "
        "other services, but cannot register as a volunteer.\n\n" + "{withdraw}",
    ),
    (
        "health_data",
        "健康信息处理单独同意",
        "在您参加献血、造血干细胞捐献登记、救护培训实操或志愿服务前，本会需要处理您填写的健康信息，"
        "例如健康问卷答案、血型、人类白细胞抗原（HLA）分型结果及与服务安全相关的身体状况。"
        "医疗健康信息属于敏感个人信息（《个人信息保护法》第二十八条），我们仅在取得您的单独同意后处理。\n\n"
        "处理目的：判断您是否适合相应活动，保障您和他人的安全。我们加密存储这些信息，仅限经授权的工作人员"
        "在履行职责所必需的范围内查看，每次查看均被记录。除非您另行单独同意，不会提供给任何第三方。"
        "保存至相应活动结束或您撤回同意为止，法律要求保存的除外。"
        "如您未满十四周岁，须由您的父母或其他监护人同意。"
        "不同意本项时，我们无法为您办理需要健康信息的活动。\n\n" + "{withdraw}",
        "Separate consent to the processing of health information",
        "Before you give blood, register as a stem-cell donor, take the practical part of a "
        "first-aid course or serve as a volunteer, we need to process the health information you "
        "give us, such as your answers to a health questionnaire, your blood type, your HLA typing "
        "and conditions relevant to your safety. Health information is sensitive personal "
        "information (PIPL Art 28); we process it only with this separate consent.\n\n"
        "Why: to decide whether the activity is suitable for you and to keep you and others safe. "
        "It is stored encrypted; only authorised staff see it, only as far as their work needs, "
        "and every view is recorded. We do not pass it to anyone else unless you give a separate "
        "consent. We keep it until the activity ends or you withdraw, except where the law "
        "requires us to keep it. If you are under 14, your parent or other guardian must give "
        "this consent. If you do not consent, we cannot arrange activities that need this "
        "information.\n\n" + "{withdraw}",
    ),
    (
        "share_stem_cell_registry",
        "向中华骨髓库提供个人信息单独同意",
        "为将您登记为造血干细胞志愿捐献者，本会需要将您的以下信息提供给中华骨髓库（中国造血干细胞捐献者资料库，"
        "CMDP）：姓名、性别、出生日期、居民身份证号码、联系方式、两位亲属的联系方式、血样及人类白细胞抗原（HLA）"
        "分型结果。接收方：中国造血干细胞捐献者资料库管理中心及其省级分库，联系方式见其官方网站。\n\n"
        "接收方的处理目的和方式：检索与患者配型相合的捐献者，并在配型成功时与您联系进行再动员、体检和捐献。"
        "接收方按其规定保存您的资料直至您年满退出年龄或申请退出。"
        "您可向本会或直接向中华骨髓库行使查阅、更正、删除等权利。\n\n"
        "捐献完全自愿，您可在任何阶段退出。撤回本同意后，本会不再向中华骨髓库提供或更新您的信息，"
        "并将协助您办理退出；已提供给中华骨髓库的资料由其按规定处理。\n\n" + "{withdraw}",
        "Separate consent to providing your information to the China Marrow Donor Program",
        "To register you as a voluntary stem-cell donor, the society needs to provide the "
        "following to the China Marrow Donor Program (CMDP, the Chinese stem cell donor registry): "
        "your name, sex, date of birth, resident ID card number, contact details, the contact "
        "details of two relatives, your blood sample and your HLA typing. Recipient: the CMDP "
        "management centre and its provincial branch registries; their contacts are on the CMDP "
        "website.\n\n"
        "What the recipient does with it: searches for donors who match patients and, when you "
        "match, contacts you for confirmation, a health check and the donation. The CMDP keeps "
        "your record under its rules until you reach the leaving age or ask to leave. You may "
        "exercise your rights to access, correct and delete with us or directly with the CMDP.\n\n"
        "Donation is entirely voluntary and you may leave at any stage. After you withdraw this "
        "consent we no longer provide or update your information at the CMDP and help you leave "
        "it; what the CMDP already holds is handled under its rules.\n\n" + "{withdraw}",
    ),
    (
        "share_organ_registry",
        "向人体器官捐献登记管理系统提供个人信息单独同意",
        "根据《人体器官捐献和移植条例》第九条、第十三条，为登记您的人体器官（遗体）捐献意愿，"
        "本会需要将您的姓名、性别、出生日期、居民身份证号码、联系方式、捐献意愿内容及登记时间提供给"
        "中国人体器官捐献登记管理系统（由中国红十字会总会人体器官捐献管理中心运行）。\n\n"
        "接收方的处理目的：依法记录和查询您的捐献意愿，在需要时告知您的近亲属并协调捐献。"
        "接收方在您的意愿有效期间保存登记信息。捐献意愿以书面形式作出，您可随时变更或撤销。\n\n"
        "撤回本同意即视为申请撤销在本平台办理的捐献意愿登记，本会将协助您在登记管理系统中办理撤销。"
        "\n\n" + "{withdraw}",
        "Separate consent to providing your information to the organ donation registry",
        "Under the Human Organ Donation and Transplantation Regulations (Art 9 and 13), to "
        "register your intent to donate organs (or your body), the society needs to provide your "
        "name, sex, date of birth, resident ID card number, contact details, the content of your "
        "intent and the time of registration to the China Human Organ Donation Registration "
        "System (run by the Red Cross Society of China's organ donation management centre).\n\n"
        "What the recipient does with it: records your intent as the law provides, looks it up "
        "when needed, informs your close relatives and coordinates the donation. It keeps the "
        "record while your intent stands. Your intent is made in writing and you may change or "
        "revoke it at any time.\n\n"
        "Withdrawing this consent counts as asking to revoke the intent registered through this "
        "platform; we help you revoke it in the registration system.\n\n" + "{withdraw}",
    ),
    (
        "share_national_volunteer",
        "向全国志愿服务信息系统提供个人信息单独同意",
        "根据《志愿服务条例》第七条、第十九条，志愿者应在全国志愿服务信息系统中注册，"
        "志愿服务记录按统一信息数据标准录入。为此，本会需要将您的姓名、居民身份证号码、手机号码、"
        "服务队伍以及服务时长、培训、表彰和评价记录提供给全国志愿服务信息系统"
        "（由民政部门主管，网址 chinavolunteer.mca.gov.cn）。\n\n"
        "接收方的处理目的：志愿者注册、服务记录的统一登记和查询、出具志愿服务记录证明。"
        "接收方按国家规定保存上述信息。您可向本会或直接向该系统行使查阅、更正、删除等权利。\n\n"
        "撤回本同意后，本会不再向该系统提供或更新您的信息；已提供的信息由该系统按规定处理。"
        "\n\n" + "{withdraw}",
        "Separate consent to providing your information to the national volunteer service system",
        "Under the Volunteer Service Regulations (Art 7 and 19), volunteers are registered in the "
        "national volunteer service information system and their service records are entered in "
        "its unified data standard. For this the society needs to provide your name, resident ID "
        "card number, mobile number, team, service hours, training, awards and evaluations to "
        "that system (overseen by the civil affairs authorities, "
        "chinavolunteer.mca.gov.cn).\n\n"
        "What the recipient does with it: registers you as a volunteer, keeps and lets you look "
        "up your service record in one place, and issues service-record certificates. It keeps "
        "the information as national rules require. You may exercise your rights to access, "
        "correct and delete with us or directly with that system.\n\n"
        "After you withdraw this consent we no longer provide or update your information there; "
        "what the system already holds is handled under its rules.\n\n" + "{withdraw}",
    ),
    (
        "public_notice",
        "在公示中公开姓名单独同意",
        "本会依法公示部分事项，例如表彰名单、志愿服务先进个人、救助项目的受助情况或捐赠致谢名单。"
        "公开个人信息须取得您的单独同意（《个人信息保护法》第二十五条，《慈善法》第八十二条）。\n\n"
        "经您同意，我们仅公开您的姓名（可部分隐去，例如“张*明”），以及与公示事项直接相关的内容"
        "（例如所属队伍、服务时长或捐赠项目）；绝不公开您的身份证号码、手机号码、住址或健康信息。"
        "公示在本会网站和公示栏发布，可被任何人查看，公示期满后不再展示。\n\n"
        "撤回本同意后，我们将不在今后的公示中公开您的姓名，并撤下仍在展示中的公示里您的姓名；"
        "已被他人查看或转载的内容我们无法收回。\n\n" + "{withdraw}",
        "Separate consent to publishing your name in a public notice",
        "The society publishes some matters as the law requires or allows, such as award lists, "
        "outstanding volunteers, how aid projects helped people, or lists thanking donors. "
        "Publishing personal information needs your separate consent (PIPL Art 25, Charity Law "
        "Art 82).\n\n"
        "With your consent we publish only your name (possibly partly hidden, such as “张*明”) "
        "and what is directly part of the notice (such as your team, service hours or the project "
        "you gave to); never your ID card number, mobile number, address or health information. "
        "Notices appear on our website and notice boards, can be read by anyone, and are taken "
        "down when their notice period ends.\n\n"
        "After you withdraw this consent we leave your name out of future notices and remove it "
        "from notices still on display; we cannot recall what others have already read or "
        "copied.\n\n" + "{withdraw}",
    ),
]


def seed(apps, schema_editor):
    ConsentText = apps.get_model("privacy", "ConsentText")
    now = timezone.now()
    for purpose, zh_title, zh_body, en_title, en_body in TEXTS:
        for language, title, body in (
            ("zh-hans", zh_title, zh_body.format(withdraw=WITHDRAW_ZH)),
            ("en", en_title, en_body.format(withdraw=WITHDRAW_EN)),
        ):
            ConsentText.objects.get_or_create(
                purpose=purpose,
                language=language,
                version=1,
                defaults={"title": title, "body": body, "published_at": now},
            )
    Role = apps.get_model("core", "Role")
    for role in Role.objects.filter(code="branch_admin"):
        if PERM not in role.permissions:
            role.permissions = [*role.permissions, PERM]
            role.save(update_fields=["permissions"])


def unseed(apps, schema_editor):
    # The tables go with the schema step; only the role needs putting back.
    Role = apps.get_model("core", "Role")
    for role in Role.objects.all():
        if PERM in (role.permissions or []):
            role.permissions = [p for p in role.permissions if p != PERM]
            role.save(update_fields=["permissions"])


class Migration(migrations.Migration):
    dependencies = [
        ("privacy", "0001_initial"),
        ("core", "0004_outbox_retry_permission"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='ConsentText',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('purpose', models.CharField(choices=[('volunteer_registration', 'Volunteer registration'), ('health_data', 'Health data'), ('share_stem_cell_registry', 'Sharing with the China Marrow Donor Program (CMDP)'), ('share_organ_registry', 'Sharing with the organ donation registry'), ('share_national_volunteer', 'Sharing with the national volunteer service system'), ('public_notice', 'Publishing my name in a public notice')], max_length=40, verbose_name='purpose')),
                ('version', models.PositiveIntegerField(verbose_name='version')),
                ('language', models.CharField(choices=[('zh-hans', 'Simplified Chinese'), ('en', 'English')], max_length=10, verbose_name='language')),
                ('title', models.CharField(max_length=200, verbose_name='title')),
                ('body', models.TextField(verbose_name='text')),
                ('published_at', models.DateTimeField(verbose_name='published at')),
            ],
            options={
                'verbose_name': 'consent text',
                'verbose_name_plural': 'consent texts',
                'ordering': ['purpose', 'language', '-version'],
                'constraints': [models.UniqueConstraint(fields=('purpose', 'language', 'version'), name='consenttext_unique'), models.CheckConstraint(condition=models.Q(('version__gte', 1)), name='consenttext_version_positive')],
            },
        ),
        migrations.CreateModel(
            name='DataRequest',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('correction', 'Correction'), ('deletion', 'Deletion')], max_length=20, verbose_name='request')),
                ('status', models.CharField(choices=[('submitted', 'Submitted'), ('in_review', 'In review'), ('done', 'Done'), ('refused', 'Refused')], db_index=True, default='submitted', max_length=20, verbose_name='status')),
                ('field', models.CharField(blank=True, max_length=40, verbose_name='what to correct')),
                ('proposed_value', rendao.privacy.fields.EncryptedTextField(blank=True, verbose_name='proposed value')),
                ('note', rendao.privacy.fields.EncryptedTextField(blank=True, verbose_name='note')),
                ('created_at', models.DateTimeField(verbose_name='submitted at')),
                ('closed_at', models.DateTimeField(blank=True, null=True, verbose_name='closed at')),
                ('subject', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='data_requests', to=settings.AUTH_USER_MODEL, verbose_name='person')),
            ],
            options={
                'verbose_name': 'personal data request',
                'verbose_name_plural': 'personal data requests',
                'ordering': ['-created_at', '-id'],
            },
        ),
        migrations.CreateModel(
            name='DataRequestDecision',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('from_status', models.CharField(choices=[('submitted', 'Submitted'), ('in_review', 'In review'), ('done', 'Done'), ('refused', 'Refused')], max_length=20, verbose_name='status before')),
                ('to_status', models.CharField(choices=[('submitted', 'Submitted'), ('in_review', 'In review'), ('done', 'Done'), ('refused', 'Refused')], max_length=20, verbose_name='status after')),
                ('reason', models.TextField(blank=True, verbose_name='reason')),
                ('created_at', models.DateTimeField(verbose_name='time')),
                ('actor', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='decided by')),
                ('request', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='decisions', to='privacy.datarequest', verbose_name='request')),
            ],
            options={
                'verbose_name': 'decision on a personal data request',
                'verbose_name_plural': 'decisions on personal data requests',
                'ordering': ['created_at', 'id'],
            },
        ),
        migrations.CreateModel(
            name='Consent',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('purpose', models.CharField(choices=[('volunteer_registration', 'Volunteer registration'), ('health_data', 'Health data'), ('share_stem_cell_registry', 'Sharing with the China Marrow Donor Program (CMDP)'), ('share_organ_registry', 'Sharing with the organ donation registry'), ('share_national_volunteer', 'Sharing with the national volunteer service system'), ('public_notice', 'Publishing my name in a public notice')], max_length=40, verbose_name='purpose')),
                ('granted_at', models.DateTimeField(verbose_name='granted at')),
                ('withdrawn_at', models.DateTimeField(blank=True, null=True, verbose_name='withdrawn at')),
                ('relation', models.CharField(blank=True, choices=[('parent', 'Parent'), ('guardian', 'Other legal guardian')], max_length=20, verbose_name='relation to the person')),
                ('guardian', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='consents_as_guardian', to=settings.AUTH_USER_MODEL, verbose_name='guardian who consented')),
                ('subject', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='consents', to=settings.AUTH_USER_MODEL, verbose_name='person')),
                ('withdrawn_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='withdrawn by')),
                ('text', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='consents', to='privacy.consenttext', verbose_name='text shown')),
            ],
            options={
                'verbose_name': 'consent',
                'verbose_name_plural': 'consents',
                'ordering': ['-granted_at', '-id'],
                'constraints': [models.UniqueConstraint(condition=models.Q(('withdrawn_at__isnull', True)), fields=('subject', 'purpose'), name='consent_one_live_per_purpose'), models.CheckConstraint(condition=models.Q(('withdrawn_at__isnull', True), ('withdrawn_at__gte', models.F('granted_at')), _connector='OR'), name='consent_withdrawn_after_granted'), models.CheckConstraint(condition=models.Q(models.Q(('guardian__isnull', True), ('relation', '')), models.Q(('guardian__isnull', False), models.Q(('relation', ''), _negated=True)), _connector='OR'), name='consent_guardian_has_relation'), models.CheckConstraint(condition=models.Q(('guardian__isnull', True), models.Q(('guardian', models.F('subject')), _negated=True), _connector='OR'), name='consent_guardian_not_subject')],
            },
        ),
        migrations.AddConstraint(
            model_name='datarequest',
            constraint=models.CheckConstraint(condition=models.Q(('status__in', ['submitted', 'in_review', 'done', 'refused'])), name='datarequest_status_valid'),
        ),
        migrations.AddConstraint(
            model_name='datarequest',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('kind', 'correction'), models.Q(('field', ''), _negated=True)), models.Q(('kind', 'deletion'), ('field', '')), _connector='OR'), name='datarequest_field_iff_correction'),
        ),
        migrations.AddConstraint(
            model_name='datarequest',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('status__in', ['submitted', 'in_review']), ('closed_at__isnull', True)), models.Q(('status__in', ['done', 'refused']), ('closed_at__isnull', False)), _connector='OR'), name='datarequest_closed_iff_final'),
        ),
        migrations.AddConstraint(
            model_name='datarequest',
            constraint=models.UniqueConstraint(condition=models.Q(('status__in', ['submitted', 'in_review'])), fields=('subject', 'kind', 'field'), name='datarequest_one_open'),
        ),
        migrations.AddConstraint(
            model_name='datarequestdecision',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('to_status', 'refused'), _negated=True), models.Q(('reason', ''), _negated=True), _connector='OR'), name='datarequestdecision_refusal_has_reason'),
        ),
        migrations.RunPython(seed, unseed),
    ]
