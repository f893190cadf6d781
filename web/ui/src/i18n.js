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

  // Screens and the top bar.
  mode_dispatch: { zh: '调度', en: 'Dispatch' },
  mode_patrol: { zh: '巡检', en: 'Patrol' },
  mode_survey: { zh: '竣工测量', en: 'Surveys' },
  modes_label: { zh: '工作界面', en: 'Screens' },
  logout: { zh: '退出', en: 'Sign out' },
  search_placeholder: { zh: '搜索管道/阀门编号或地址', en: 'Search a pipe or valve id, or an address' },
  search_none: { zh: '没有找到“{q}”', en: 'Nothing found for “{q}”' },
  search_kind_pipe: { zh: '管道', en: 'Pipe' },
  search_kind_valve: { zh: '阀门', en: 'Valve' },
  search_kind_hydrant: { zh: '消火栓', en: 'Hydrant' },
  search_kind_address: { zh: '地址', en: 'Address' },
  search_kind_district: { zh: '片区', en: 'District' },
  search_customers: { zh: '{n} 户', en: '{n} customers' },
  plan_here: { zh: '在此规划关阀', en: 'Plan a shutoff here' },
  hint_patrol: { zh: '今日巡检路线与到期管道', en: "Today's route and the pipes due" },
  hint_survey: { zh: '上传竣工测量成果，检查后批准入库', en: 'Upload a survey, check it, approve it' },
  coords: { zh: '坐标', en: 'Coordinates' },

  // Pipe colouring.
  color_by: { zh: '管道着色', en: 'Colour pipes by' },
  color_grade: { zh: '巡检等级', en: 'Grade' },
  color_due: { zh: '巡检状态', en: 'Due status' },
  legend_due: { zh: '管道（按巡检状态）', en: 'Pipes (by patrol status)' },
  due_done: { zh: '今日已巡', en: 'Done today' },
  due_due: { zh: '今日到期', en: 'Due today' },
  due_overdue: { zh: '逾期未巡', en: 'Overdue' },
  due_planned: { zh: '本周期内（未到期）', en: 'In its cycle, not yet due' },
  due_ok: { zh: '未到期', en: 'Not due' },
  due_none: { zh: '无状态（其他片区）', en: 'No status (other districts)' },
  due_pick_district: { zh: '按巡检状态着色：请先在“巡检”中选择片区', en: 'Due colours: choose a district under Patrol first' },
  valve_held: { zh: '阀门（维修单关闭中）', en: 'Valve (held closed by a job)' },
  legend_work: { zh: '维修与巡检', en: 'Repairs and patrols' },
  site_emergency: { zh: '抢修现场', en: 'Repair site' },
  site_planned: { zh: '计划停水', en: 'Planned shutoff' },
  site_late: { zh: '超时现场', en: 'Late site' },
  route_patrol: { zh: '巡检路线（箭头为方向）', en: 'Patrol route (arrows: direction)' },
  route_walk: { zh: '途经（不计巡检）', en: 'Walk between (not patrol)' },
  route_road: { zh: '沿道路步行', en: 'Walk along the streets' },
  track: { zh: 'GPS 轨迹', en: 'GPS track' },

  // Plan panel extras.
  notice_btn: { zh: '停水通知', en: 'Shutoff notice' },
  open_job_btn: { zh: '开维修单', en: 'Open repair job' },
  notice_title: { zh: '停水通知', en: 'Shutoff notice' },
  notice_reason: { zh: '停水原因', en: 'Reason' },
  notice_reason_default: { zh: '供水管道抢修', en: 'emergency repair of a water main' },
  notice_start: { zh: '停水开始', en: 'Water off from' },
  notice_restore: { zh: '预计恢复', en: 'Water back by' },
  notice_planned: { zh: '计划停水（检查提前通知时间）', en: 'Planned (check the notice given)' },
  notice_make: { zh: '生成通知', en: 'Write the notice' },
  notice_zh: { zh: '中文', en: 'Chinese' },
  notice_en: { zh: '英文', en: 'English' },
  notice_area: { zh: '停水范围：{area}', en: 'Area: {area}' },
  notice_count: { zh: '通知用户 {n} 户', en: '{n} customers to notify' },
  notice_late: { zh: '通知不足的用户', en: 'Customers given too little notice' },
  notice_late_line: { zh: '{name}：需提前 {need} 小时，实际 {given} 小时', en: '{name}: needs {need} h, gets {given} h' },
  copy: { zh: '复制', en: 'Copy' },
  copied: { zh: '已复制', en: 'Copied' },
  cancel: { zh: '取消', en: 'Cancel' },
  submit: { zh: '提交', en: 'Submit' },

  job_title: { zh: '开维修单', en: 'Open a repair job' },
  job_kind: { zh: '类型', en: 'Kind' },
  kind_emergency: { zh: '抢修', en: 'Emergency' },
  kind_planned: { zh: '计划停水', en: 'Planned' },
  job_source: { zh: '信息来源', en: 'Information source' },
  src_hotline: { zh: '热线电话', en: 'Hotline' },
  src_patrol: { zh: '巡检发现', en: 'Patrol' },
  src_customer: { zh: '用户报修', en: 'Customer' },
  src_other: { zh: '其他', en: 'Other' },
  job_address: { zh: '地址', en: 'Address' },
  job_content: { zh: '内容', en: 'What happened' },
  job_contact: { zh: '联系电话', en: 'Contact' },
  job_reporter: { zh: '报告人', en: 'Reported by' },
  job_by: { zh: '开单人', en: 'Opened by' },
  job_reason: { zh: '停水原因', en: 'Reason' },
  job_start: { zh: '计划开始', en: 'Start' },
  job_end: { zh: '计划结束', en: 'End' },
  job_opened: { zh: '已开维修单 #{id}', en: 'Repair job #{id} opened' },
  job_plan_on: { zh: '关阀方案：管道 {pipe}，{n} 个阀门', en: 'Shutoff: pipe {pipe}, {n} valves' },

  board_title: { zh: '维修现场', en: 'Repair sites' },
  board_empty: { zh: '没有进行中的维修', en: 'No open repair job' },
  board_refresh: { zh: '刷新', en: 'Refresh' },
  board_next: { zh: '下一节点：{m}', en: 'Next: {m}' },
  board_done_all: { zh: '各节点均已完成', en: 'Every milestone done' },
  board_holding: { zh: '关阀中', en: 'valves closed' },
  board_pipe: { zh: '管道 {pipe}', en: 'pipe {pipe}' },
  board_district: { zh: '片区 {d}', en: 'district {d}' },
  left: { zh: '还剩 {t}', en: '{t} left' },
  late_by: { zh: '超时 {t}', en: 'late by {t}' },
  dur_dhm: { zh: '{d}天{h}小时', en: '{d} d {h} h' },
  dur_hm: { zh: '{h}小时{m}分', en: '{h} h {m} min' },
  dur_ms: { zh: '{m}分{s}秒', en: '{m} min {s} s' },
  job_detail: { zh: '维修单 #{id}', en: 'Repair job #{id}' },
  timeline: { zh: '节点时限', en: 'Milestones' },
  tl_due: { zh: '时限 {t}', en: 'due {t}' },
  tl_done: { zh: '完成 {t}', en: 'done {t}' },
  state_done: { zh: '已完成', en: 'done' },
  state_late: { zh: '超时完成', en: 'done late' },
  state_overdue: { zh: '已超时', en: 'overdue' },
  state_due: { zh: '进行中', en: 'due' },
  state_pending: { zh: '待定', en: 'pending' },
  state_not_applicable: { zh: '不适用', en: 'not applicable' },
  ms_record_title: { zh: '记录节点', en: 'Record a milestone' },
  ms_record_btn: { zh: '记录：{m}', en: 'Record: {m}' },
  ms_none: { zh: '暂无可记录的节点', en: 'No milestone to record now' },
  ms_time: { zh: '发生时间（{zone}）', en: 'When ({zone})' },
  ms_time_hint: { zh: '留空为当前时间', en: 'Blank: now' },
  ms_now: { zh: '填入现在', en: 'Fill in now' },
  ms_note: { zh: '备注（可选）', en: 'Note (optional)' },
  ms_by: { zh: '记录人', en: 'Recorded by' },
  ms_photo: { zh: '现场照片（可选）', en: 'Site photo (optional)' },
  ms_photo_link: { zh: '查看照片', en: 'Photo' },
  ms_photo_unreadable: { zh: '无法读取这张照片', en: 'This photo cannot be read' },
  ms_photo_too_big: { zh: '照片过大，无法压缩到 600 KB 以内', en: 'The photo cannot be made smaller than 600 KB' },
  ms_na_btn: { zh: '{m}：不适用', en: '{m}: not applicable' },
  ms_na_needs_note: { zh: '请在备注中说明不适用的原因', en: 'Say in the note why it does not apply' },
  ms_recorded: { zh: '已记录：{m}', en: 'Recorded: {m}' },
  ms_close_valves: { zh: '请关闭阀门：{v}', en: 'Close valves: {v}' },
  ms_open_valves: { zh: '请开启阀门：{v}', en: 'Open valves: {v}' },
  ms_keep_closed: { zh: '保持关闭（其他维修单占用）：{v}', en: 'Keep closed (held by other jobs): {v}' },
  ms_bad_time: { zh: '时间格式不正确', en: 'The time is not valid' },
  vf_title: { zh: '现场阀门失效', en: 'Valve failed on site' },
  vf_valve: { zh: '无法关闭的阀门', en: 'Valve that would not close' },
  vf_record: { zh: '报失效并重新规划', en: 'Report failed and re-plan' },
  vf_recorded: { zh: '阀门 {v} 已报失效，需另关 {n} 个阀门', en: 'Valve {v} reported failed; {n} more valves to close' },
  vf_list: { zh: '已失效：{v}', en: 'Failed: {v}' },
  vf_extra: { zh: '{v} 失效，另关 {x}，增加 {n} 户', en: '{v} failed: also close {x}; {n} more households' },
  show_patrol_routes: { zh: '显示今日全部巡检路线', en: "Show today's patrol routes" },
  back: { zh: '返回', en: 'Back' },

  // District manager.
  patrol_title: { zh: '今日巡检', en: "Today's patrol" },
  patrol_district: { zh: '片区', en: 'District' },
  patrol_no_route: { zh: '今日本片区没有巡检路线', en: 'No patrol route for this district today' },
  patrol_make_plan: { zh: '生成今日路线', en: "Plan today's routes" },
  patrol_route_n: { zh: '路线 {i}/{of}', en: 'Route {i} of {of}' },
  patrol_summary: { zh: '全程 {km} · 约 {min} 分钟 · {pipes} 条管道（逾期 {overdue}）', en: '{km} · about {min} min · {pipes} pipes ({overdue} overdue)' },
  patrol_counts: { zh: '今日已巡 {done} · 今日到期 {due} · 逾期 {overdue}', en: 'Done today {done} · due {due} · overdue {overdue}' },
  patrol_start: { zh: '开始巡检', en: 'Start patrol' },
  patrol_stop: { zh: '结束并上传', en: 'Stop and upload' },
  patrol_retry: { zh: '重新上传', en: 'Upload again' },
  patrol_recording: { zh: '记录中 · {n} 个点 · {len} · {time}', en: 'Recording · {n} points · {len} · {time}' },
  patrol_uploading: { zh: '正在上传轨迹…', en: 'Uploading the track…' },
  patrol_uploaded: { zh: '轨迹已上传：巡检 {n} 条管道（{len}），部分经过 {partial} 条', en: 'Track uploaded: {n} pipes patrolled ({len}), {partial} partly' },
  patrol_coverage: { zh: '今日完成 {pct}%，尚缺 {missed} 条', en: 'Today {pct}% done, {missed} pipes missed' },
  patrol_too_short: { zh: '轨迹点太少，无法上传', en: 'Too few track points to upload' },
  patrol_gps_error: { zh: '无法获取定位：{msg}', en: 'No GPS position: {msg}' },
  patrol_pending_track: { zh: '有未上传的轨迹（{n} 个点）', en: 'A track is waiting to be uploaded ({n} points)' },
  patrol_steps: { zh: '路线步骤', en: 'Route steps' },
  start_point: { zh: '起点', en: 'Start' },

  anomaly_btn: { zh: '上报异常', en: 'Report anomaly' },
  anomaly_title: { zh: '上报异常', en: 'Report an anomaly' },
  anomaly_type: { zh: '异常类型', en: 'Type' },
  an_lost: { zh: '设施丢失', en: 'Lost' },
  an_damaged: { zh: '设施损坏', en: 'Damaged' },
  an_buried: { zh: '设施掩埋', en: 'Buried' },
  an_chamber_collapsed: { zh: '井室塌陷', en: 'Chamber collapsed' },
  an_leak: { zh: '漏水', en: 'Leak' },
  an_other: { zh: '其他', en: 'Other' },
  anomaly_photo: { zh: '照片', en: 'Photo' },
  anomaly_position: { zh: '位置', en: 'Position' },
  anomaly_pos_gps: { zh: 'GPS 定位（±{acc} 米）', en: 'GPS (±{acc} m)' },
  anomaly_pos_map: { zh: '地图中心（可点击地图修改）', en: 'Map centre (tap the map to move it)' },
  anomaly_pos_pick: { zh: '点击地图选择位置', en: 'Tap the map to place it' },
  anomaly_note: { zh: '说明', en: 'Note' },
  anomaly_found: { zh: '发现于 {t}，须在 {deadline} 前上报', en: 'Found at {t}; report by {deadline}' },
  anomaly_clock: { zh: '剩余 {t}', en: '{t} left' },
  anomaly_clock_late: { zh: '已超过 {min} 分钟时限 {t}', en: '{t} past the {min}-minute limit' },
  anomaly_draft: { zh: '待上报异常 · {clock}', en: 'Anomaly to report · {clock}' },
  anomaly_sent: { zh: '已上报 #{id}：用时 {min} 分钟，{late}', en: 'Reported #{id} after {min} min, {late}' },
  anomaly_on_time: { zh: '按时', en: 'on time' },
  anomaly_late: { zh: '迟报', en: 'late' },
  anomaly_job: { zh: '已自动开维修单 #{job}', en: 'Repair job #{job} opened' },
  anomaly_no_type: { zh: '请选择异常类型', en: 'Choose a type' },
  anomaly_later: { zh: '稍后上报', en: 'Later' },
  anomaly_discard: { zh: '放弃', en: 'Discard' },

  // GIS staff.
  survey_title: { zh: '竣工测量入库', en: 'As-built surveys' },
  survey_upload: { zh: '上传成果', en: 'Upload a survey' },
  survey_file: { zh: '成果文件（xlsx / csv / zip / gpkg / dxf / geojson）', en: 'File (xlsx / csv / zip / gpkg / dxf / geojson)' },
  survey_project: { zh: '工程名称', en: 'Project' },
  survey_contractor: { zh: '测量单位', en: 'Contractor' },
  survey_date: { zh: '测量日期', en: 'Survey date' },
  survey_crs: { zh: '坐标系', en: 'CRS' },
  survey_crs_auto: { zh: '自动识别', en: 'Detect' },
  survey_send: { zh: '上传并校验', en: 'Upload and validate' },
  survey_uploading: { zh: '正在上传校验…', en: 'Uploading and validating…' },
  survey_history: { zh: '批次记录', en: 'Batches' },
  survey_none: { zh: '还没有批次', en: 'No batch yet' },
  survey_unavailable: { zh: '服务器尚未提供竣工测量接口（{path}）', en: 'The server has no as-built API yet ({path})' },
  batch_title: { zh: '批次 #{id} · {file}', en: 'Batch #{id} · {file}' },
  batch_meta: { zh: '{project} · {contractor} · {by} 上传于 {at}', en: '{project} · {contractor} · uploaded by {by} at {at}' },
  batch_summary: { zh: '新增管道 {pipes} 条（{len}）· 阀门 {valves} · 消火栓 {hydrants}', en: '{pipes} pipes ({len}) · {valves} valves · {hydrants} hydrants' },
  batch_changes: { zh: '新增 {add} · 修改 {change} · 拆分 {split} · 删除 {remove}', en: '{add} added · {change} changed · {split} split · {remove} removed' },
  batch_issues: { zh: '问题：{errors} 个错误，{warnings} 个警告', en: 'Issues: {errors} errors, {warnings} warnings' },
  batch_ack: { zh: '已核实全部警告', en: 'I have checked every warning' },
  batch_approve: { zh: '批准', en: 'Approve' },
  batch_reject: { zh: '驳回', en: 'Reject' },
  batch_reject_reason: { zh: '驳回原因', en: 'Why it is rejected' },
  batch_commit: { zh: '提交入库', en: 'Commit' },
  batch_rollback: { zh: '回滚', en: 'Roll back' },
  batch_rollback_confirm: { zh: '回滚批次 #{id}？将生成一个反向批次。', en: 'Roll back batch #{id}? A compensating batch is made.' },
  batch_failure: { zh: '失败原因：{msg}', en: 'Failed: {msg}' },
  issue_rows: { zh: '第 {rows} 行', en: 'row {rows}' },
  issue_fix: { zh: '处理：{fix}', en: 'Fix: {fix}' },
  issue_no_place: { zh: '（无位置）', en: '(no position)' },
  sev_error: { zh: '错误', en: 'error' },
  sev_warning: { zh: '警告', en: 'warning' },
  st_received: { zh: '已接收', en: 'received' },
  st_failed: { zh: '读取失败', en: 'failed' },
  st_invalid: { zh: '有错误', en: 'invalid' },
  st_ready: { zh: '待批准', en: 'ready' },
  st_approved: { zh: '已批准', en: 'approved' },
  st_rejected: { zh: '已驳回', en: 'rejected' },
  st_committed: { zh: '已入库', en: 'committed' },
  ch_add: { zh: '新增', en: 'Added' },
  ch_change: { zh: '修改', en: 'Changed' },
  ch_split: { zh: '拆分的现状管', en: 'Live pipe split' },
  ch_remove: { zh: '删除', en: 'Removed' },
  issue_point: { zh: '问题位置', en: 'Issue' },

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

// bilingual picks this language's half of a server text written as
// "中文 / English" (patrol route steps); other texts are returned whole.
export function bilingual(text) {
  const i = (text || '').indexOf(' / ');
  if (i < 0) return text || '';
  return current === 'zh' ? text.slice(0, i) : text.slice(i + 3);
}

// pick returns zh or en by the current language (API fields label/label_zh).
export function pick(zh, en) {
  return (current === 'zh' ? zh || en : en || zh) || '';
}

// duration formats milliseconds for a countdown: days and hours, hours and
// minutes, or minutes and seconds.
export function duration(ms) {
  const s = Math.max(0, Math.floor(Math.abs(ms) / 1000));
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return t('dur_dhm', { d, h });
  if (h > 0) return t('dur_hm', { h, m: String(m).padStart(2, '0') });
  return t('dur_ms', { m, s: String(s % 60).padStart(2, '0') });
}

// zone is the utility's time zone (api/config time_zone) in which clock
// shows times; undefined until setZone: the browser's zone.
let zone;

// setZone sets the zone clock shows times in (an IANA name; unknown or
// empty: the browser's zone).
export function setZone(tz) {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz || undefined });
    zone = tz || undefined;
  } catch {
    zone = undefined;
  }
}

// clock formats a time of day (and the date when it is not today) as the
// utility's wall clock (setZone), whatever the browser's zone.
export function clock(when) {
  const d = new Date(when);
  if (Number.isNaN(d.getTime())) return '';
  const loc = current === 'zh' ? 'zh-CN' : 'en-GB';
  const day = (x) => new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(x);
  const today = day(new Date()) === day(d);
  const opts = today ? { hour: '2-digit', minute: '2-digit' } : { month: 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit' };
  return d.toLocaleString(loc, { ...opts, timeZone: zone, hourCycle: 'h23' });
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
