package web

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"net/http"
	"time"

	"github.com/hactl/hactl/internal/sim/controller"
)

// MetaDB is the webserver's own metadata database (DB-GPT's "meta data"
// database: SQLite or MySQL), of which the simulator uses one table.
type MetaDB struct {
	DB      *sql.DB
	Dialect string // "sqlite" or "mysql"
}

// ChatHistoryTable is the table DB-GPT keeps its conversations in.
const ChatHistoryTable = "chat_history"

// ChatHistoryDDL creates the simulator's chat_history table, with the
// columns of DB-GPT's table it uses, in dialect "sqlite" or "mysql". DB-GPT
// creates its tables itself only in SQLite; in MySQL the operator runs
// DB-GPT's schema script first, which this stands in for.
func ChatHistoryDDL(dialect string) string {
	if dialect == "mysql" {
		return "CREATE TABLE IF NOT EXISTS " + ChatHistoryTable + ` (
  id INT NOT NULL AUTO_INCREMENT,
  conv_uid VARCHAR(255) NOT NULL,
  chat_mode VARCHAR(255) NOT NULL,
  summary LONGTEXT NULL,
  user_name VARCHAR(255) NULL,
  messages TEXT NULL,
  message_ids TEXT NULL,
  sys_code VARCHAR(128) NULL,
  app_code VARCHAR(255) NULL,
  gmt_created DATETIME DEFAULT CURRENT_TIMESTAMP,
  gmt_modified DATETIME DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY (id),
  UNIQUE KEY conv_uid (conv_uid)
) DEFAULT CHARSET=utf8mb4`
	}
	return "CREATE TABLE IF NOT EXISTS " + ChatHistoryTable + ` (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  conv_uid VARCHAR(255) NOT NULL UNIQUE,
  chat_mode VARCHAR(255) NOT NULL,
  summary TEXT NULL,
  user_name VARCHAR(255) NULL,
  messages TEXT NULL,
  message_ids TEXT NULL,
  sys_code VARCHAR(128) NULL,
  app_code VARCHAR(255) NULL,
  gmt_created TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
  gmt_modified TIMESTAMP DEFAULT CURRENT_TIMESTAMP
)`
}

// conversation is DB-GPT's ConversationVo as the dialogue routes answer it.
type conversation struct {
	ConvUID     string  `json:"conv_uid"`
	UserInput   string  `json:"user_input"`
	UserName    *string `json:"user_name"`
	ChatMode    string  `json:"chat_mode"`
	SelectParam *string `json:"select_param"`
	ModelName   *string `json:"model_name"`
	SysCode     *string `json:"sys_code"`
}

// succeeded writes DB-GPT's Result.succ answer.
func succeeded(w http.ResponseWriter, data any) {
	controller.WriteJSON(w, http.StatusOK, struct {
		Success bool `json:"success"`
		ErrCode *int `json:"err_code"`
		ErrMsg  *int `json:"err_msg"`
		Data    any  `json:"data"`
	}{true, nil, nil, data})
}

// registerDialogue adds the chat-history routes of DB-GPT's api_v1:
// POST /api/v1/chat/dialogue/new (query chat_mode, default chat_normal;
// user_name; sys_code) and GET /api/v1/chat/dialogue/list (query user_name,
// sys_code). Unlike DB-GPT, which writes a conversation's row with its first
// message, /new writes the row at once: the simulator has no chat.
func registerDialogue(mux *http.ServeMux, m *MetaDB, log interface{ Errorf(string, ...any) }) {
	mux.HandleFunc("/api/v1/chat/dialogue/new", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			controller.MethodNotAllowed(w)
			return
		}
		q := r.URL.Query()
		c := conversation{ConvUID: uuid(), ChatMode: q.Get("chat_mode"), UserName: optional(q.Get("user_name")), SysCode: optional(q.Get("sys_code"))}
		if c.ChatMode == "" {
			c.ChatMode = "chat_normal"
		}
		ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
		defer cancel()
		_, err := m.DB.ExecContext(ctx, "INSERT INTO "+ChatHistoryTable+" (conv_uid, chat_mode, summary, user_name, messages, message_ids, sys_code) VALUES (?, ?, ?, ?, ?, ?, ?)",
			c.ConvUID, c.ChatMode, "", c.UserName, "[]", "", c.SysCode)
		if err != nil {
			log.Errorf("dialogue new: %v", err)
			Failed(w, "E0003", dbError(m, err))
			return
		}
		succeeded(w, c)
	})
	mux.HandleFunc("/api/v1/chat/dialogue/list", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			controller.MethodNotAllowed(w)
			return
		}
		q := r.URL.Query()
		query := "SELECT conv_uid, chat_mode, user_name, sys_code FROM " + ChatHistoryTable + " WHERE 1=1"
		var args []any
		for _, k := range []string{"user_name", "sys_code"} {
			if v := q.Get(k); v != "" {
				query += " AND " + k + " = ?"
				args = append(args, v)
			}
		}
		ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
		defer cancel()
		rows, err := m.DB.QueryContext(ctx, query+" ORDER BY id DESC", args...)
		if err != nil {
			log.Errorf("dialogue list: %v", err)
			Failed(w, "E0003", dbError(m, err))
			return
		}
		defer rows.Close()
		list := []conversation{}
		for rows.Next() {
			var c conversation
			var user, sys sql.NullString
			if err := rows.Scan(&c.ConvUID, &c.ChatMode, &user, &sys); err != nil {
				Failed(w, "E0003", err.Error())
				return
			}
			if user.Valid {
				c.UserName = &user.String
			}
			if sys.Valid {
				c.SysCode = &sys.String
			}
			list = append(list, c)
		}
		if err := rows.Err(); err != nil {
			Failed(w, "E0003", err.Error())
			return
		}
		succeeded(w, list)
	})
}

// dbError words a database error as SQLAlchemy does.
func dbError(m *MetaDB, err error) string {
	if m.Dialect == "mysql" {
		return "(pymysql.err.ProgrammingError) " + err.Error()
	}
	return "(sqlite3.OperationalError) " + err.Error()
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// uuid returns a random UUID in its text form.
func uuid() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
