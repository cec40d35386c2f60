package scope

// Tapioca's scopes, in canonical order.
const (
	ReadTasks    = "read:tasks"
	WriteTasks   = "write:tasks"
	ReadTime     = "read:time"
	WriteTime    = "write:time"
	ReadFinance  = "read:finance"
	WriteFinance = "write:finance"
	ReadUsers    = "read:users"
	AdminOrg     = "admin:org"
	AdminBilling = "admin:billing"
)

// Default is Tapioca's registry: write:X implies read:X, admin:org implies
// every tasks, time, finance and users scope, and admin:billing stands alone
// (it implies nothing and nothing implies it). The zero [Set] is the empty
// set of Default. Do not reassign Default.
var Default = MustNewRegistry(
	[]string{ReadTasks, WriteTasks, ReadTime, WriteTime, ReadFinance, WriteFinance, ReadUsers, AdminOrg, AdminBilling},
	[]Implication{
		{WriteTasks, ReadTasks},
		{WriteTime, ReadTime},
		{WriteFinance, ReadFinance},
		{AdminOrg, WriteTasks},
		{AdminOrg, WriteTime},
		{AdminOrg, WriteFinance},
		{AdminOrg, ReadUsers},
	},
)
