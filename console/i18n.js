// The console's two languages and its number, money and date formats.
// The page's <html lang> is the server's pick from Accept-Language; a
// choice made with the switch is kept in this browser (localStorage).

const LANG_KEY = "brand-gateway.lang";
const TIME_ZONE = "Asia/Shanghai";

// Each message in both languages, side by side: [zh-CN, en].
const MESSAGES = {
  "app.title": ["品牌合作伙伴控制台", "Brand partner console"],
  "app.loading": ["加载中…", "Loading…"],
  "app.signOut": ["退出", "Sign out"],
  "app.graphiql": ["GraphiQL", "GraphiQL"],
  "app.language": ["语言", "Language"],
  "signIn.title": ["登录", "Sign in"],
  "signIn.help": ["粘贴平台为你签发的访问令牌。令牌只保存在此标签页中，关闭即失效。", "Paste the access token the platform issued you. It is kept in this tab only and is gone when you close it."],
  "signIn.token": ["访问令牌", "Access token"],
  "signIn.submit": ["登录", "Sign in"],
  "signIn.failed": ["无法登录：{message}", "Could not sign in: {message}"],
  "role.BRAND_ANALYST": ["品牌分析师", "Brand analyst"],
  "role.BRAND_OPERATOR": ["店铺运营", "Store operator"],
  "role.REVIEWER": ["招商审核", "Onboarding reviewer"],
  "role.ADMIN": ["平台管理员", "Platform admin"],
  "role.SERVICE": ["平台服务", "Platform service"],
  "nav.audience": ["人群洞察", "Audience"],
  "home.title": ["你好，{subject}", "Hello, {subject}"],
  "home.noViews": ["此角色的控制台页面尚未上线；你可以在 GraphiQL 中使用全部接口。", "This role's console pages are not built yet; every operation is available in GraphiQL."],
  "graphql.show": ["显示 GraphQL", "Show GraphQL"],
  "graphql.hide": ["隐藏 GraphQL", "Hide GraphQL"],
  "graphql.open": ["在 GraphiQL 中打开", "Open in GraphiQL"],
  "graphql.none": ["此页面尚未调用接口。", "This page has not called the API yet."],
  "error.UNAUTHENTICATED": ["令牌无效、已过期或已吊销，请重新登录。", "The token is invalid, expired or revoked: sign in again."],
  "error.generic": ["出错了：{message}", "Something went wrong: {message}"],
  "aud.builder": ["提问", "Question"],
  "aud.population": ["人群", "Population"],
  "pop.PLATFORM": ["平台会员", "Platform members"],
  "pop.STORE": ["本店会员", "Your store's members"],
  "pop.PROSPECTS": ["潜在客户（非本店会员）", "Prospects (not in your store)"],
  "aud.filters": ["筛选条件", "Filters"],
  "aud.addFilter": ["添加筛选", "Add filter"],
  "aud.remove": ["移除", "Remove"],
  "aud.breakdown": ["拆分维度（最多两个）", "Break down by (up to two)"],
  "aud.none": ["不拆分", "No breakdown"],
  "aud.metrics": ["指标", "Metrics"],
  "aud.chartOf": ["图表显示", "Chart shows"],
  "aud.ask": ["提问", "Ask"],
  "aud.asking": ["计算中…", "Computing…"],
  "aud.cost": ["本次提问将花费 ε {epsilon}", "Asking will spend ε {epsilon}"],
  "aud.free": ["免费：此问题本数据期已发布给你，或来自平台发布", "Free: already released to you this epoch, or from the platform release"],
  "aud.unaffordable": ["预算不足：需要 ε {epsilon}，当前可用 ε {left}", "Over budget: needs ε {epsilon}, ε {left} left"],
  "aud.costing": ["正在估算成本…", "Working out the cost…"],
  "aud.answer": ["答案", "Answer"],
  "aud.noAnswer": ["设置好问题后点击“提问”。", "Set up a question and press Ask."],
  "aud.spent": ["本次花费 ε {epsilon}", "This answer spent ε {epsilon}"],
  "aud.spentFree": ["本次免费", "This answer was free"],
  "aud.epoch": ["数据期 {epoch}", "Data epoch {epoch}"],
  "aud.shown": ["展示会员数 {members}", "{members} members shown"],
  "aud.suppressedCells": ["{count} 个单元格因人数低于 {minimum} 被隐藏", "{count} cells hidden under {minimum} members"],
  "aud.interval": ["会员数 95% 区间 ±{interval}", "Member counts ±{interval} (95%)"],
  "aud.csv": ["下载 CSV", "Download CSV"],
  "aud.suppressed": ["已隐藏", "suppressed"],
  "aud.few": ["很少", "few"],
  "aud.noiseDominates": ["噪声占主导：只可读作“很少”", "Noise dominates: read as “few”"],
  "aud.tgiLine": ["TGI = 100：与平台占比相同", "TGI = 100: same share as the platform"],
  "aud.table": ["明细", "Cells"],
  "aud.cell": ["单元格", "Cell"],
  "aud.total": ["全部", "All"],
  "budget.title": ["隐私预算（分析师）", "Privacy budget (analysts)"],
  "budget.day": ["今日", "Today"],
  "budget.rolling": ["近 30 天", "Last 30 days"],
  "budget.left": ["可用 ε {left}", "ε {left} left"],
  "budget.resets": ["{at} 重置", "resets {at}"],
  "budget.history": ["花费记录", "Spend history"],
  "budget.noSpends": ["暂无花费。", "Nothing spent yet."],
  "budget.when": ["时间", "When"],
  "budget.question": ["问题", "Question"],
  "metric.MEMBERS": ["会员数", "Members"],
  "metric.SHARE": ["占比", "Share"],
  "metric.PAID_MEMBER_SHARE": ["付费会员占比", "Paid member share"],
  "metric.BLACK_CARD_SHARE": ["黑卡占比", "Black card share"],
  "metric.MEAN_ANNUAL_SPEND": ["年均消费", "Mean annual spend"],
  "metric.TGI": ["TGI", "TGI"],
  "dim.GROWTH_TIER": ["成长等级", "Growth tier"],
  "dim.PAID_MEMBER": ["付费会员", "Paid member"],
  "dim.BLACK_CARD": ["黑卡", "Black card"],
  "dim.AGE_BAND": ["年龄段", "Age band"],
  "dim.GENDER": ["性别", "Gender"],
  "dim.CITY_TIER": ["城市等级", "City tier"],
  "dim.SPEND_BAND": ["年消费段", "Annual spend"],
  "dim.INTEREST": ["兴趣", "Interest"],
  "dim.SERVICE": ["生态服务", "Ecosystem service"],
  "val.BRONZE": ["青铜", "Bronze"],
  "val.SILVER": ["白银", "Silver"],
  "val.GOLD": ["黄金", "Gold"],
  "val.PLATINUM": ["铂金", "Platinum"],
  "val.DIAMOND": ["钻石", "Diamond"],
  "val.BLACK_DIAMOND": ["黑钻", "Black diamond"],
  "val.YES": ["是", "Yes"],
  "val.NO": ["否", "No"],
  "val.AGE_UNDER_25": ["25 岁以下", "Under 25"],
  "val.AGE_25_29": ["25–29 岁", "25–29"],
  "val.AGE_30_34": ["30–34 岁", "30–34"],
  "val.AGE_35_39": ["35–39 岁", "35–39"],
  "val.AGE_40_49": ["40–49 岁", "40–49"],
  "val.AGE_50_PLUS": ["50 岁及以上", "50+"],
  "val.FEMALE": ["女", "Female"],
  "val.MALE": ["男", "Male"],
  "val.UNDECLARED": ["未声明", "Undeclared"],
  "val.TIER1": ["一线", "Tier 1"],
  "val.NEW_TIER1": ["新一线", "New tier 1"],
  "val.TIER2": ["二线", "Tier 2"],
  "val.TIER3": ["三线", "Tier 3"],
  "val.TIER4": ["四线", "Tier 4"],
  "val.TIER5": ["五线及以下", "Tier 5"],
  "val.SPEND_UNDER_1K": ["¥1千以下", "Under ¥1k"],
  "val.SPEND_1K_5K": ["¥1千–5千", "¥1k–5k"],
  "val.SPEND_5K_20K": ["¥5千–2万", "¥5k–20k"],
  "val.SPEND_20K_50K": ["¥2万–5万", "¥20k–50k"],
  "val.SPEND_50K_PLUS": ["¥5万以上", "¥50k+"],
  "val.BEAUTY": ["美妆", "Beauty"],
  "val.FASHION": ["服饰", "Fashion"],
  "val.SPORTS": ["运动", "Sports"],
  "val.OUTDOOR": ["户外", "Outdoor"],
  "val.DIGITAL": ["数码", "Digital"],
  "val.HOME": ["家居", "Home"],
  "val.MOTHER_BABY": ["母婴", "Mother & baby"],
  "val.PETS": ["宠物", "Pets"],
  "val.FOOD": ["食品", "Food"],
  "val.TRAVEL": ["旅行", "Travel"],
  "val.BOOKS": ["图书", "Books"],
  "val.GAMING": ["游戏", "Gaming"],
  "val.LUXURY": ["奢品", "Luxury"],
  "val.HEALTH": ["健康", "Health"],
  "val.FOOD_DELIVERY": ["外卖", "Food delivery"],
  "val.VIDEO": ["视频", "Video"],
  "val.MOVIE_TICKETS": ["电影票", "Movie tickets"],
  "val.MAPS": ["地图", "Maps"],
  "nav.benefits": ["会员权益", "Benefits"],
  "op.benefits": ["会员权益", "Member benefits"],
  "op.new": ["新建权益", "New benefit"],
  "op.more": ["加载更多", "Show more"],
  "op.none": ["没有符合条件的权益。", "No benefits match."],
  "op.state": ["状态", "State"],
  "op.kind": ["类型", "Kind"],
  "op.redemptions": ["核销次数", "Redemptions"],
  "op.spent": ["已发放金额", "Money granted"],
  "op.revisionPending": ["新版本待审", "new revision in review"],
  "op.targeting": ["人群定向", "Targeting"],
  "op.everyone": ["全部会员", "Every member"],
  "op.stacking": ["叠加规则", "Stacking"],
  "op.schedule": ["时间", "Schedule"],
  "op.budget": ["预算", "Budget"],
  "op.basics": ["基本信息", "Basics"],
  "op.edit": ["编辑", "Edit"],
  "op.back": ["返回", "Back"],
  "op.create": ["保存为草稿", "Save as draft"],
  "op.saveEdit": ["保存修改", "Save changes"],
  "op.reach": ["覆盖预估", "Reach preview"],
  "op.reachHelp": ["按当前定向估算可获得此权益的平台会员数（经隐私引擎加噪，首次预估从运营隐私预算中扣除）。", "How many platform members its targeting reaches (noisy, through the privacy engine; a first preview spends from the operators' privacy budget)."],
  "op.preview": ["预估覆盖", "Preview reach"],
  "op.reachResult": ["约 {members} 名会员（95% 区间每格 ±{interval}）", "About {members} members (±{interval} per cell, 95%)"],
  "op.events": ["变更记录", "History"],
  "op.shanghai": ["（北京时间）", "(Asia/Shanghai)"],
  "op.onePerLine": ["每行一个", "one per line"],
  "op.wholeNumber": ["请输入整数", "Enter a whole number"],
  "op.money": ["请输入金额，如 30 或 29.90", "Enter an amount such as 30 or 29.90"],
  "op.priceLine": ["无法识别：{line}（格式：SKU, 价格）", "Can't read {line} (write: SKU, price)"],
  "op.either": ["不限", "Either"],
  "op.anyTier": ["不限等级", "Any tier"],
  "field.name": ["名称", "Name"],
  "field.description": ["说明", "Description"],
  "field.percent": ["折扣（%）", "Percent off"],
  "field.amountCents": ["金额", "Amount"],
  "field.thresholdCents": ["使用门槛", "Minimum order"],
  "field.gift": ["礼品", "Gift"],
  "field.daysBefore": ["生日前天数", "Days before the birthday"],
  "field.daysAfter": ["生日后天数", "Days after the birthday"],
  "field.service": ["服务", "Service"],
  "field.interests": ["适用兴趣", "For interests"],
  "field.title": ["活动名称", "Title"],
  "field.locations": ["门店", "Store locations"],
  "field.slotStart": ["场次开始", "Slot start"],
  "field.slotEnd": ["场次结束", "Slot end"],
  "field.capacity": ["名额", "Places"],
  "field.hoursEarly": ["提前小时数", "Hours early"],
  "field.skus": ["商品 SKU", "SKUs"],
  "field.publicAt": ["公开发售时间", "Public sale"],
  "field.multiplierTenths": ["积分倍数 ×10", "Multiplier × 10"],
  "field.prices": ["会员价（SKU, 价格）", "Member prices (SKU, price)"],
  "field.nthOrder": ["第几单", "Nth order"],
  "field.periodDays": ["周期（天）", "Period (days)"],
  "field.minTier": ["最低等级", "Lowest tier"],
  "field.mode": ["方式", "Mode"],
  "field.combinesWith": ["可叠加类型", "Combines with"],
  "field.priority": ["优先级", "Priority"],
  "field.startsAt": ["开始", "Starts"],
  "field.endsAt": ["结束", "Ends"],
  "field.totalRedemptions": ["总核销次数上限", "Most redemptions"],
  "field.perMember": ["每人上限", "Most per member"],
  "field.perMemberPerDay": ["每人每日上限", "Most per member per day"],
  "field.perMemberPerYear": ["每人每年上限", "Most per member per year"],
  "field.totalMoneyCents": ["总金额上限", "Most money"],
  "state.DRAFT": ["草稿", "Draft"],
  "state.PENDING_REVIEW": ["待审核", "In review"],
  "state.REJECTED": ["已驳回", "Rejected"],
  "state.APPROVED": ["已通过", "Approved"],
  "state.ACTIVE": ["生效中", "Active"],
  "state.PAUSED": ["已暂停", "Paused"],
  "state.ENDED": ["已结束", "Ended"],
  "state.RETIRED": ["已下线", "Retired"],
  "kind.PERCENT_OFF": ["折扣", "Percent off"],
  "kind.FIXED_COUPON": ["满减券", "Fixed coupon"],
  "kind.FREE_RETURN_SHIPPING": ["退货包运费", "Free return shipping"],
  "kind.BIRTHDAY_GIFT": ["生日礼", "Birthday gift"],
  "kind.INTEREST_SERVICE": ["兴趣服务", "Interest service"],
  "kind.OFFLINE_EXPERIENCE": ["线下体验", "Offline experience"],
  "kind.EARLY_ACCESS": ["优先购", "Early access"],
  "kind.POINTS_MULTIPLIER": ["积分加倍", "Points multiplier"],
  "kind.MEMBER_PRICE": ["会员价", "Member price"],
  "kind.ORDER_REBATE": ["满单返现", "Order rebate"],
  "mode.EXCLUSIVE": ["独占", "Exclusive"],
  "mode.COMBINABLE": ["可叠加", "Combinable"],
  "mode.BEST_OF": ["择优", "Best of"],
  "transition.SUBMIT": ["提交审核", "Submit for review"],
  "transition.PAUSE": ["暂停", "Pause"],
  "transition.RESUME": ["恢复", "Resume"],
  "transition.END": ["结束", "End"],
  "transition.RETIRE": ["下线", "Retire"],
  "event.CREATE": ["创建", "Created"],
  "event.EDIT": ["编辑", "Edited"],
  "event.SUBMIT": ["提交审核", "Submitted"],
  "event.APPROVE": ["审核通过", "Approved"],
  "event.REJECT": ["审核驳回", "Rejected"],
  "event.PAUSE": ["暂停", "Paused"],
  "event.RESUME": ["恢复", "Resumed"],
  "event.END": ["结束", "Ended"],
  "event.RETIRE": ["下线", "Retired"],
  "event.ACTIVATE": ["生效", "Went live"],
  "event.FLAG": ["标记", "Flagged"],
};

/** The languages offered, as [code, own name], in MESSAGES' order. */
export const LANGUAGES = [["zh-CN", "中文"], ["en", "English"]];
const CODES = LANGUAGES.map(([code]) => code);

let lang = pickInitial();

function pickInitial() {
  const chosen = localStorage.getItem(LANG_KEY);
  if (CODES.includes(chosen)) return chosen;
  const served = document.documentElement.lang;
  return CODES.includes(served) ? served : CODES[0];
}

/** The current language code. */
export function language() {
  return lang;
}

/** Switches language and remembers the choice in this browser. */
export function setLanguage(code) {
  if (!CODES.includes(code)) return;
  lang = code;
  localStorage.setItem(LANG_KEY, code);
  document.documentElement.lang = code;
}
document.documentElement.lang = lang;

/** The message `key` in the current language, `{name}`s filled from `params`. */
export function t(key, params = {}) {
  const text = MESSAGES[key]?.[CODES.indexOf(lang)] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(params[name] ?? ""));
}

/** A dimension value's label (the code itself when unknown). */
export function valueLabel(code) {
  return MESSAGES["val." + code]?.[CODES.indexOf(lang)] ?? code;
}

/** An integer with the locale's grouping. */
export function fmtInt(n) {
  return n == null ? "—" : new Intl.NumberFormat(lang).format(n);
}

/** A ratio (0.123) as a percentage (12.3%). */
export function fmtPercent(x, digits = 1) {
  if (x == null) return "—";
  return new Intl.NumberFormat(lang, {
    style: "percent",
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  }).format(x);
}

/** A plain decimal with at most `digits` fraction digits. */
export function fmtDecimal(x, digits = 2) {
  if (x == null) return "—";
  return new Intl.NumberFormat(lang, { maximumFractionDigits: digits }).format(x);
}

/** Integer fen as yuan (¥1,234.50). */
export function fmtMoney(cents) {
  if (cents == null) return "—";
  return new Intl.NumberFormat(lang, { style: "currency", currency: "CNY" }).format(cents / 100);
}

/** An RFC 3339 instant as a date and time in Asia/Shanghai. */
export function fmtDateTime(iso) {
  if (!iso) return "—";
  return new Intl.DateTimeFormat(lang, {
    timeZone: TIME_ZONE,
    dateStyle: "medium",
    timeStyle: "short",
  }).format(new Date(iso));
}
