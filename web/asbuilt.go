package web

import "github.com/gorilla/mux"

// asbuiltRoutes adds the as-built survey import API.
func (s *Server) asbuiltRoutes(r *mux.Router) {}
