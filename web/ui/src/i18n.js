// Every label of the UI, in Simplified Chinese (first) and English.
// Placeholders {name} are filled by t(key, {name: value}).

export const dict = {
  title: { zh: '水线 · 供水管网调度', en: 'Waterline · Network dispatch' },
  doc_title: { zh: '水线 · 供水管网', en: 'Waterline · Water network' },
  lang_button: { zh: 'EN', en: '中文' },
  lang_switch: { zh: 'Switch to English', en: '切换到中文' },
  map_label: { zh: '管网地图', en: 'Network map' },
  hint: { zh: '点击管道，规划关阀停水方案', en: 'Click a pipe to plan a shutoff' },
  network_info: { zh: '{pipes} 条管道 · {valves} 个阀门 · 版本 {version}', en: '{pipes} pipes · {valves} valves · version {version}' },
  network_empty: { zh: '管网为空：请先导入管网数据', en: 'The network is empty: import one first' },
  loading_network: { zh: '正在加载管网…', en: 'Loading the network…' },

  legend: { zh: '图例', en: 'Legend' },
  legend_pipes: { zh: '管道（按巡检等级）', en: 'Pipes (by patrol grade)' },
  grade_special: { zh: '特级管', en: 'Special grade' },
  grade_1: { zh: '一级管', en: 'Grade 1' },
  grade_2: { zh: '二级管', en: 'Grade 2' },
  grade_3: { zh: '三级管', en: 'Grade 3' },
  grade_other: { zh: '未分级', en: 'Ungraded' },
  crossing: { zh: '穿越管（河道/铁路）', en: 'Crossing (river/railway)' },
  inactive: { zh: '废弃/规划管', en: 'Abandoned / planned' },
  legend_points: { zh: '设施', en: 'Fittings' },
  valve_open: { zh: '阀门（常开）', en: 'Valve (open)' },
  valve_closed: { zh: '阀门（常闭）', en: 'Valve (closed)' },
  valve_inoperable: { zh: '阀门（无法操作）', en: 'Valve (inoperable)' },
  hydrant: { zh: '消火栓', en: 'Hydrant' },
  source: { zh: '水源', en: 'Source' },
  district: { zh: '片区边界', en: 'District boundary' },
  legend_plan: { zh: '关阀方案', en: 'Shutoff plan' },
  segment: { zh: '关阀停水区段', en: 'Isolated segment' },
  unintended: { zh: '连带停水管段', en: 'Also cut off (unintended)' },
  valve_to_close: { zh: '需关闭阀门（按顺序编号）', en: 'Valve to close (numbered in order)' },
  valve_dry_side: { zh: '干侧阀门（无需关闭）', en: 'Dry-side valve (no need to close)' },
  valve_failed: { zh: '失效阀门', en: 'Failed valve' },
  leak: { zh: '漏点', en: 'Leak' },

  plan_title: { zh: '关阀方案', en: 'Shutoff plan' },
  planning: { zh: '正在计算关阀方案…', en: 'Planning the shutoff…' },
  leak_at: { zh: '漏点：管道 {pipe}（DN{dn}），距起点 {pct}%', en: 'Leak on pipe {pipe} (DN{dn}), {pct}% along' },
  close: { zh: '关闭', en: 'Close' },
  count_valves_to_close: { zh: '需关阀门', en: 'Valves to close' },
  count_customers: { zh: '停水用户', en: 'Customers' },
  count_households: { zh: '停水户数', en: 'Households' },
  count_length_m: { zh: '停水管长', en: 'Pipe length' },
  count_critical_customers: { zh: '重点用户', en: 'Critical' },
  count_hydrants: { zh: '消火栓', en: 'Hydrants' },
  critical_title: { zh: '重点用户（优先通知）', en: 'Critical customers (notify first)' },
  no_critical: { zh: '无重点用户受影响', en: 'No critical customer affected' },
  closing_title: { zh: '关阀顺序', en: 'Closing order' },
  closing_rule: { zh: '先关口径大的阀门，同口径先关离漏点近的', en: 'Largest DN first, then nearest to the leak' },
  no_valves: { zh: '没有可关闭的阀门', en: 'No valve to close' },
  valve_line: { zh: '阀门 {id} · DN{dn}', en: 'Valve {id} · DN{dn}' },
  from_prev: { zh: '距上一处 {d}', en: '{d} from the previous stop' },
  valve_failed_btn: { zh: '阀门失效', en: 'Valve failed' },
  valve_failed_title: { zh: '现场无法关闭此阀门：重新规划', en: 'This valve cannot be closed on site: re-plan' },
  if_fails: { zh: '若失效：需另关 {valves}，增加 {n} 个停水用户', en: 'If it fails: also close {valves}; {n} more customers' },
  if_fails_none: { zh: '若失效：无需另关阀门', en: 'If it fails: no other valve needed' },
  failed_title: { zh: '已报失效的阀门', en: 'Valves reported failed' },
  clear_failed: { zh: '清除失效记录并重新规划', en: 'Clear failures and re-plan' },
  dry_side_title: { zh: '干侧阀门（无需关闭）', en: 'Dry-side valves (no need to close)' },
  already_closed_title: { zh: '原本关闭的阀门', en: 'Valves already closed' },
  unintended_title: { zh: '连带停水管道', en: 'Pipes also cut off' },
  csv: { zh: '导出停水用户（CSV）', en: 'Export affected customers (CSV)' },
  error_prefix: { zh: '错误：', en: 'Error:' },
  dismiss: { zh: '知道了', en: 'Dismiss' },
  network_error: { zh: '无法连接服务器：{msg}', en: 'Cannot reach the server: {msg}' },
  list_sep: { zh: '、', en: ', ' },
  unit_m: { zh: '{v} 米', en: '{v} m' },
  unit_km: { zh: '{v} 公里', en: '{v} km' },

  cat_hospital: { zh: '医院', en: 'Hospital' },
  cat_thermal_power: { zh: '热电厂', en: 'Thermal power plant' },
  cat_vip: { zh: '重要用户', en: 'VIP' },
  cat_school: { zh: '学校', en: 'School' },
  cat_industrial: { zh: '工业', en: 'Industrial' },
  cat_commercial: { zh: '商业', en: 'Commercial' },
  cat_residential: { zh: '居民', en: 'Residential' },
  cat_other: { zh: '其他', en: 'Other' },
};

export const LANGS = ['zh', 'en'];
const STORAGE_KEY = 'waterline.lang';

let current = 'zh';

export function initLang() {
  let saved = null;
  try {
    saved = localStorage.getItem(STORAGE_KEY);
  } catch {
    // storage unavailable (private mode): Chinese
  }
  current = LANGS.includes(saved) ? saved : 'zh';
  return current;
}

export function lang() {
  return current;
}

export function setLang(l) {
  if (!LANGS.includes(l)) throw new Error(`unknown language ${l}`);
  current = l;
  try {
    localStorage.setItem(STORAGE_KEY, l);
  } catch {
    // not remembered; still switched
  }
}

export function t(key, vars) {
  const e = dict[key];
  if (!e) {
    console.warn(`i18n: no label ${key}`);
    return key;
  }
  let s = e[current] ?? e.zh;
  if (vars) s = s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
  return s;
}

// category returns the label of a customer category.
export function category(c) {
  return dict[`cat_${c}`] ? t(`cat_${c}`) : c || t('cat_other');
}

// length formats metres.
export function length(m) {
  if (m >= 10000) return t('unit_km', { v: (m / 1000).toFixed(1) });
  if (m >= 1000) return t('unit_km', { v: (m / 1000).toFixed(2) });
  return t('unit_m', { v: Math.round(m) });
}

// apply sets the text of every element with data-i18n (and the attributes
// named in data-i18n-attr="attr:key,attr:key") under root.
export function apply(root = document) {
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-attr]')) {
    for (const pair of el.dataset.i18nAttr.split(',')) {
      const [attr, key] = pair.split(':');
      el.setAttribute(attr, t(key));
    }
  }
  document.documentElement.lang = current === 'zh' ? 'zh-CN' : 'en';
  document.title = t('doc_title');
}
