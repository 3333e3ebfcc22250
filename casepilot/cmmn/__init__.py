# --- the runtime (casepilot.cmmn.runtime): explicit re-exports ---
from casepilot.cmmn.parser import parse_bytes as parse_bytes
from casepilot.cmmn.parser import parse_file as parse_file
from casepilot.cmmn.runtime import Action as Action
from casepilot.cmmn.runtime import CaseInstance as CaseInstance
from casepilot.cmmn.runtime import CompleteItem as CompleteItem
from casepilot.cmmn.runtime import DisableItem as DisableItem
from casepilot.cmmn.runtime import ItemView as ItemView
from casepilot.cmmn.runtime import OccurEvent as OccurEvent
from casepilot.cmmn.runtime import PlanDiscretionary as PlanDiscretionary
from casepilot.cmmn.runtime import ReenableItem as ReenableItem
from casepilot.cmmn.runtime import SetCaseFileItem as SetCaseFileItem
from casepilot.cmmn.runtime import StartItem as StartItem
from casepilot.cmmn.runtime import TerminateItem as TerminateItem
from casepilot.cmmn.runtime import TransitionEvent as TransitionEvent
from casepilot.cmmn.runtime import action_from_dict as action_from_dict
from casepilot.cmmn.runtime import action_to_dict as action_to_dict
