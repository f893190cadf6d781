package gen

// Street names: Jinan-flavoured place words combined with a direction or
// ordinal, so that a city of a million pipes still has mostly distinct names.
// The central east-west streets are 经一路…经十二路 and the central north-south
// ones 纬一路…纬十二路, as in Jinan's old commercial district.

var placeWords = [...]string{
	"泉城", "历山", "舜耕", "英雄山", "千佛山", "燕山", "解放", "和平", "文化", "花园",
	"工业", "科技", "幸福", "建设", "民生", "新华", "胜利", "东风", "青年", "友谊",
	"山水", "玉函", "杆石", "济泺", "北园", "洪楼", "七里", "黄河", "华山", "鹊山",
	"匡山", "腊山", "兴隆", "龙鼎", "奥体", "旅游", "飞跃", "凤凰", "将军", "宝华",
	"清源", "顺河", "堤口", "无影山", "天桥", "槐荫", "大明湖", "趵突泉", "黑虎泉", "五龙潭",
	"珍珠泉", "朝阳", "利农", "港沟", "彩石", "唐冶", "孙村", "王舍人", "郭店", "祝甸",
	"党家", "十六里河", "兴济河", "玉符河", "南辛庄", "营市", "齐州", "齐鲁", "章丘", "长清",
	"平阴", "济阳", "莱芜", "明湖", "趵北", "丁家庄", "姚家", "燕子山", "甸柳", "窑头",
}

var nameMods = [...]string{"", "东", "西", "南", "北", "中", "新", "前", "后", "二"}

var numerals = [...]string{"一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二"}

// streetName names street k (rows first, then columns) of class cls; band
// is its 0-based position in the central band of twelve streets, or -1.
func streetName(k int, row bool, cls uint8, band int) string {
	if band >= 0 && band < len(numerals) {
		if row {
			return "经" + numerals[band] + "路"
		}
		return "纬" + numerals[band] + "路"
	}
	n := len(placeWords) * len(nameMods)
	h := (k*37 + 11) % n
	base := placeWords[h%len(placeWords)] + nameMods[h/len(placeWords)]
	switch {
	case cls == clsTrunk:
		return base + "大道"
	case cls == clsMain && !row:
		return base + "大街"
	case row:
		return base + "路"
	default:
		return base + "街"
	}
}
