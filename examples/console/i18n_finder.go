package console

// finderLabels are the words of the finder's saved tasks, co-travel and
// push for coding.
var finderLabels = map[string]map[string]string{
	"zh": {
		"task_name": "任务名称", "saved_tasks": "已保存的任务", "task_query": "查询条件", "excluded": "已排除任务",
		"exclude_tasks": "排除已圈定人员（此前任务）", "no_task": "任务不存在", "phone_only_hint": "无证件人员可仅填手机号",
		"venue_range_hint": "每个场所可填自己的时段；留空则用下方统一时段", "report_trips": "报告的乘车（机）行程",
		"trip_mode": "交通方式", "trip_number": "班次/车次", "trip_day": "日期", "trip_car": "车厢", "trip_row": "排/包厢", "trip_seat": "座位",
		"mode_plane": "飞机", "mode_train-sealed": "高铁/动车（封闭）", "mode_train-unsealed": "普速列车（非封闭）", "mode_bus": "客车",
		"search_kind": "查找范围", "search_all": "场所扫码和同行", "search_venues": "仅场所扫码", "search_trips": "仅同行（交通）",
		"proximity": "同行判定", "prox_plan": "国家方案（飞机前后3排、高铁同车厢、普速同及相邻包厢、客车全车）",
		"prox_plan_bus3": "国家方案，大型客车前后3排", "prox_whole_trip": "同班次全部乘客",
		"exposure": "暴露地点", "co_travel": "同行", "pushes": "推送赋码记录", "push_for_coding": "推送赋码",
		"push_hint": "对本任务的密接人员逐一人工转码：每人一次已授权、留审计的转码。", "push_hops": "推送范围",
		"all_hops": "全部层级", "hop1_only": "仅第1层（直接密接）", "push_confirm": "确认对以上人员推送赋码",
		"push_state": "状态", "push_done": "已完成", "push_failed": "失败", "push_running": "进行中",
		"push_stopped": "已停止", "stop": "停止", "refresh": "刷新", "name_identity": "任务名称不能含证件号码或手机号", "more_in_csv": "另有密接人员未列出，见导出的 CSV",
	},
	"en": {
		"task_name": "Task name", "saved_tasks": "Saved tasks", "task_query": "Query", "excluded": "Excluded tasks",
		"exclude_tasks": "Exclude people identified by earlier tasks", "no_task": "No such task", "phone_only_hint": "a person without a document: phone only",
		"venue_range_hint": "Each venue may have its own time range; blank uses the shared range below", "report_trips": "Reported trips",
		"trip_mode": "Mode", "trip_number": "Flight/train/bus", "trip_day": "Date", "trip_car": "Car", "trip_row": "Row/compartment", "trip_seat": "Seat",
		"mode_plane": "Plane", "mode_train-sealed": "High-speed train (sealed)", "mode_train-unsealed": "Conventional train", "mode_bus": "Bus/coach",
		"search_kind": "Search", "search_all": "Venue scans and co-travel", "search_venues": "Venue scans only", "search_trips": "Co-travel only",
		"proximity": "Co-travel rule", "prox_plan": "National plan (plane ±3 rows, sealed train same car, conventional train same/adjacent compartment, bus everyone)",
		"prox_plan_bus3": "National plan, coaches ±3 rows", "prox_whole_trip": "Everyone on board",
		"exposure": "Exposure", "co_travel": "Co-travel", "pushes": "Pushes for coding", "push_for_coding": "Push for coding",
		"push_hint": "Transcode this task's contacts one by one: each an authorised, audited transcode.", "push_hops": "Whom",
		"all_hops": "All hops", "hop1_only": "Hop 1 only (direct contacts)", "push_confirm": "I confirm the push for the people above",
		"push_state": "State", "push_done": "Done", "push_failed": "Failed", "push_running": "Running",
		"push_stopped": "Stopped", "stop": "Stop", "refresh": "Refresh", "name_identity": "a task name may not hold a document number or phone", "more_in_csv": "More contacts not listed here; the CSV export has them all",
	},
}
